package io.berth.storage.devicemapper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.spi.driver.DriverStatus;
import io.berth.storage.support.Commands;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the driver says and does where it cannot work, and how it reads its
 * options and the pool's status. Runs on the build host (which, on these
 * machines, has no device-mapper); the driver's work is tested in the VM.
 */
class DeviceMapperOutcomesTest {

    @TempDir
    Path temp;

    /** Whether this host's kernel answers dmsetup, asked the way an operator would. */
    private static boolean hostHasDeviceMapper() throws IOException {
        String dmsetup = Commands.locate("dmsetup");
        return dmsetup != null && Commands.run(List.of(dmsetup, "version"), null, Duration.ofMinutes(1)).exitCode() == 0;
    }

    @Test
    void withoutDeviceMapperTheDriverIsUnsupportedAndSaysWhyElseUnconfigured() throws Exception {
        DeviceMapperStorageDriver driver = new DeviceMapperStorageDriver(temp.resolve("devicemapper"), PoolOptions.NONE);
        DriverStatus status = driver.status();
        if (hostHasDeviceMapper()) {
            assertEquals(DriverStatus.State.UNCONFIGURED, status.state(), status.reason());
            assertTrue(status.reason().contains("dm.datadev"), status.reason());
        } else {
            assertEquals(DriverStatus.State.UNSUPPORTED, status.state(), status.reason());
            assertTrue(status.reason().startsWith("device-mapper is not available in this kernel ("), status.reason());
        }
        IOException refused = assertThrows(IOException.class, () -> driver.create("base", null));
        assertTrue(refused.getMessage().contains(status.reason()) || refused.getMessage().contains("no thin pool"),
                refused.getMessage());
        assertFalse(driver.exists("base"));
        assertFalse(Files.exists(temp.resolve("devicemapper")), "a driver that cannot work writes nothing");
    }

    @Test
    void aLoopbackPoolOnAHostWithoutDeviceMapperWritesNothing() throws Exception {
        if (hostHasDeviceMapper()) {
            return; // here the pool would be made: DeviceMapperPoolInGuest tests that
        }
        PoolOptions loopback = new PoolOptions(null, null, true, 64L << 20, 4L << 20, 32L << 20, "ext4");
        DeviceMapperStorageDriver driver = new DeviceMapperStorageDriver(temp.resolve("devicemapper"), loopback);
        assertEquals(DriverStatus.State.UNSUPPORTED, driver.status().state());
        assertFalse(Files.exists(temp.resolve("devicemapper")), "no sparse files, no loop devices");
    }

    @Test
    void sizesAreReadAsDockerWritesThem() {
        assertEquals(10L << 30, PoolOptions.parseSize("dm.basesize", "10G"));
        assertEquals(512L << 20, PoolOptions.parseSize("dm.basesize", "512M"));
        assertEquals(100L << 30, PoolOptions.parseSize("dm.loopdatasize", "100GB"));
        assertEquals(4096, PoolOptions.parseSize("dm.basesize", "4096"));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> PoolOptions.parseSize("dm.basesize", "ten gigs"));
        assertTrue(bad.getMessage().startsWith("dm.basesize is not a size"), bad.getMessage());
    }

    @Test
    void optionsThatContradictEachOtherAreRefusedByName() {
        Path device = Path.of("/dev/sdb");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new PoolOptions(device, null, false, 1L << 30,
                1L << 30, 1L << 30, "ext4")).getMessage().contains("only dm.datadev is set"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new PoolOptions(device, device, true, 1L << 30,
                1L << 30, 1L << 30, "ext4")).getMessage().contains("exclude each other"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new PoolOptions(null, null, true, 1L << 30,
                1L << 30, 1L << 30, "btrfs")).getMessage().contains("dm.fs must be ext4 or xfs"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new PoolOptions(null, null, true, 1L << 30,
                1L << 30, 1L << 20, "ext4")).getMessage().contains("dm.basesize must be at least 16M"));
        assertFalse(PoolOptions.NONE.configured());
    }

    @Test
    void thePoolsStatusLineIsRead() throws Exception {
        PoolUsage usage = PoolUsage.parse(
                "0 1048576 thin-pool 3 11/4096 20/8192 - rw discard_passdown error_if_no_space - 1024");
        assertEquals(new PoolUsage(11, 4096, 20, 8192, "rw"), usage);
        assertEquals("out_of_data_space", PoolUsage.parse(
                "0 65536 thin-pool 5 14/4096 512/512 - out_of_data_space discard_passdown error_if_no_space - 1024")
                .mode());
        assertEquals("Fail", PoolUsage.parse("0 65536 thin-pool Fail").mode());
        assertThrows(IOException.class, () -> PoolUsage.parse("0 65536 linear 7:0 0"));
    }
}
