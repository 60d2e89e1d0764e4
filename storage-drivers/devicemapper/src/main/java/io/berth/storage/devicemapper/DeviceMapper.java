package io.berth.storage.devicemapper;

import io.berth.storage.support.Commands;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The kernel's device-mapper, through {@code dmsetup}. The command rather than
 * the {@code DM_*} ioctls on {@code /dev/mapper/control} or libdevmapper through
 * a native binding: the ioctl structures are versioned C layouts that Java
 * would have to pack by hand, libdevmapper would tie the bundle to a native
 * library, and {@code dmsetup} is what operators use to inspect the same
 * devices, so every step the driver takes can be repeated by hand. It costs a
 * process per step, which is small next to a mkfs or a mount.
 *
 * <p>Without udev (containers, minimal VMs) dmsetup runs with
 * {@code DM_DISABLE_UDEV=1}: it makes the {@code /dev/mapper} nodes itself and
 * does not wait for udev, which would never answer.
 */
final class DeviceMapper {

    static final Duration TIMEOUT = Duration.ofMinutes(2);

    private final String dmsetup;
    private final Map<String, String> environment;

    private DeviceMapper(String dmsetup, boolean udev) {
        this.dmsetup = dmsetup;
        this.environment = udev ? Map.of() : Map.of("DM_DISABLE_UDEV", "1");
    }

    /** The device-mapper of this host, or {@code null} when dmsetup is not installed. */
    static DeviceMapper locate() {
        String dmsetup = Commands.locate("dmsetup");
        return dmsetup == null ? null : new DeviceMapper(dmsetup, Files.exists(Path.of("/run/udev/control")));
    }

    /**
     * Why the kernel cannot do device-mapper, or {@code null} when it can: opening
     * {@code /dev/mapper/control}, as dmsetup does, loads dm-mod where it is a module
     * and fails where the kernel has none. Needs no tool, so the reason is the
     * kernel's even where dmsetup is missing too.
     */
    static String kernelUnsupportedReason() {
        Path control = Path.of("/dev/mapper/control");
        try (FileChannel channel = FileChannel.open(control, StandardOpenOption.READ)) {
            return null;
        } catch (NoSuchFileException e) {
            return "device-mapper is not available in this kernel (no " + control + ")";
        } catch (IOException e) {
            return "device-mapper is not available in this kernel (" + control + ": " + e.getMessage()
                    .replace(control + ": ", "") + ")";
        }
    }

    /** The names of the active devices. */
    Set<String> names() throws IOException {
        String listing = Commands.check(command("ls"), environment, null, TIMEOUT);
        Set<String> names = new HashSet<>();
        for (String line : listing.lines().toList()) {
            // "NAME\t(254:0)" per device, or "No devices found"
            if (line.contains("\t") || line.endsWith(")")) {
                names.add(line.split("\\s+")[0]);
            }
        }
        return names;
    }

    void create(String name, String table) throws IOException {
        Commands.check(command("create", name, "--table", table), environment, null, TIMEOUT);
    }

    /**
     * Removes a device; one that is still open (a lazily unmounted filesystem, a
     * process holding it) is marked for deferred removal, which the kernel
     * carries out when the last opener closes it. A device that does not exist
     * counts as removed.
     *
     * @return whether the device is gone now ({@code false}: deferred)
     */
    boolean remove(String name) throws IOException {
        Commands.Result result = Commands.run(command("remove", name), environment, null, TIMEOUT);
        if (result.exitCode() == 0 || result.message().contains("No such device or address")) {
            return true;
        }
        Commands.check(command("remove", "--deferred", name), environment, null, TIMEOUT);
        return false;
    }

    /** Sends a message to a pool's target, e.g. {@code create_thin 3}. */
    void message(String pool, String message) throws IOException {
        List<String> command = command("message", pool, "0");
        command.addAll(List.of(message.split(" ")));
        Commands.check(command, environment, null, TIMEOUT);
    }

    void suspend(String name) throws IOException {
        Commands.check(command("suspend", name), environment, null, TIMEOUT);
    }

    void resume(String name) throws IOException {
        Commands.check(command("resume", name), environment, null, TIMEOUT);
    }

    /** The target's status line, e.g. a thin-pool's {@code 0 2097152 thin-pool 1 11/512 20/16384 - rw ...}. */
    String status(String name) throws IOException {
        return Commands.check(command("status", name), environment, null, TIMEOUT).trim();
    }

    /** The device node of an active device. */
    static Path node(String name) {
        return Path.of("/dev/mapper", name);
    }

    private List<String> command(String... args) {
        List<String> command = new ArrayList<>();
        command.add(dmsetup);
        command.addAll(List.of(args));
        return command;
    }
}
