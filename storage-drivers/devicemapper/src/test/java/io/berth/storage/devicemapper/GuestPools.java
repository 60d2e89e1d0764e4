package io.berth.storage.devicemapper;

import io.berth.storage.support.Commands;
import io.berth.storage.testsuite.Mounts;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Pools for the driver's tests in the VM: small loop-backed pools (the guest's
 * root is a tmpfs, so a sparse file costs only what the pool writes), each torn
 * down after its test as a reboot would, and its metadata then checked with
 * {@code thin_check}: a test that leaves a damaged pool fails.
 */
final class GuestPools {

    static final long DATA = 512L << 20;
    static final long METADATA = 16L << 20;
    static final long BASE = 64L << 20;
    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    private GuestPools() {
    }

    static PoolOptions loopback(long dataSize, long baseSize, String filesystem) {
        return new PoolOptions(null, null, true, dataSize, METADATA, baseSize, filesystem);
    }

    /** A driver on a fresh pool; one that cannot work here is a failure that says why. */
    static DeviceMapperStorageDriver open(Path root, PoolOptions options) {
        DeviceMapperStorageDriver driver = new DeviceMapperStorageDriver(root, options);
        if (!driver.status().isActive()) {
            throw new IllegalStateException("devicemapper cannot run here: " + driver.status().state() + ": "
                    + driver.status().reason() + " (its tests run in the VM that DeviceMapperVmTest boots)");
        }
        return driver;
    }

    /**
     * Unmounts the driver's layers, removes its devices and its pool, checks the
     * pool's metadata with {@code thin_check} and detaches the loop devices.
     *
     * @throws AssertionError when thin_check finds the metadata damaged
     */
    static void tearDown(DeviceMapperStorageDriver driver) throws IOException {
        List<Path> mounts = new ArrayList<>(Mounts.below(driver.root()));
        mounts.sort(Comparator.comparingInt(Path::getNameCount).reversed());
        for (Path mount : mounts) {
            Commands.check(List.of("umount", mount.toString()), null, TIMEOUT);
        }
        String pool = driver.poolName();
        String prefix = pool.substring(0, pool.length() - "pool".length());
        String listing = Commands.check(dmsetup("ls"), null, TIMEOUT);
        for (String line : listing.lines().toList()) {
            String name = line.split("\\s+")[0];
            if (name.startsWith(prefix) && !name.equals(pool)) {
                Commands.check(dmsetup("remove", name), null, TIMEOUT);
            }
        }
        if (listing.contains(pool)) {
            Commands.check(dmsetup("remove", pool), null, TIMEOUT);
        }
        Path metadata = driver.metadataDevice();
        Commands.Result check = Commands.run(List.of(Commands.locate("thin_check"), metadata.toString()), null, TIMEOUT);
        for (Path loop : List.of(driver.dataDevice(), metadata)) {
            if (loop != null && loop.getFileName().toString().startsWith("loop")) {
                Commands.run(List.of(Commands.locate("losetup"), "-d", loop.toString()), null, TIMEOUT);
            }
        }
        if (check.exitCode() != 0) {
            throw new AssertionError("thin_check finds the pool's metadata damaged: " + check.message());
        }
    }

    static List<String> dmsetup(String... args) {
        List<String> command = new ArrayList<>(List.of("env", "DM_DISABLE_UDEV=1", Commands.locate("dmsetup")));
        command.addAll(List.of(args));
        return command;
    }

    /** What {@code thin_check} says of the pool's metadata while the pool is inactive: exit code and output. */
    static Commands.Result thinCheck(Path metadata) throws IOException {
        return Commands.run(List.of(Commands.locate("thin_check"), metadata.toString()), null, TIMEOUT);
    }
}
