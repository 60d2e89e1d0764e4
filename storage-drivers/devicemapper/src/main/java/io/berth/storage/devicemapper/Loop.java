package io.berth.storage.devicemapper;

import io.berth.storage.support.Commands;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Loop devices for the sparse pool files of {@code dm.loopback}, through util-linux's {@code losetup}. */
final class Loop {

    private Loop() {
    }

    /**
     * The loop device {@code file} is attached to, attaching it to a free one
     * first if it is not (always when {@code isNew}).
     */
    static Path attach(Path file, boolean isNew) throws IOException {
        String losetup = losetup();
        // "/dev/loop0: [2049]:1234 (/path/file)": an earlier instance (or a crash) left it attached
        String attached = isNew ? ""
                : Commands.check(List.of(losetup, "-j", file.toString()), null, DeviceMapper.TIMEOUT).trim();
        if (!attached.isEmpty()) {
            return Path.of(attached.lines().findFirst().orElseThrow().split(":", 2)[0]);
        }
        return Path.of(Commands.check(List.of(losetup, "-f", "--show", file.toString()), null,
                DeviceMapper.TIMEOUT).trim());
    }

    static void detach(Path device) throws IOException {
        Commands.check(List.of(losetup(), "-d", device.toString()), null, DeviceMapper.TIMEOUT);
    }

    private static String losetup() throws IOException {
        String losetup = Commands.locate("losetup");
        if (losetup == null) {
            throw new IOException("losetup is not installed (Debian package mount)");
        }
        return losetup;
    }
}
