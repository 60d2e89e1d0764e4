package io.berth.runtime.oci;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Set;

/**
 * The host's device nodes as OCI {@code linux.devices} entries, for {@code --privileged}, leaving out what every
 * container has its own of (as runc's {@code HostDevices} does): {@code /dev/pts}, {@code /dev/shm},
 * {@code /dev/mqueue}, {@code /dev/fd} and {@code /dev/console}.
 */
final class HostDevices {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> SKIPPED_DIRS = Set.of("pts", "shm", "mqueue", "fd", ".lxc", ".lxd-mounts", ".udev");
    private static final int S_IFMT = 0170000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFBLK = 0060000;

    private HostDevices() {
    }

    static ArrayNode list() throws IOException {
        ArrayNode devices = JSON.createArrayNode();
        Path dev = Path.of("/dev");
        Files.walkFileTree(dev, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) {
                return !dir.equals(dev) && SKIPPED_DIRS.contains(dir.getFileName().toString())
                        ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                if (attributes.isOther() && !file.equals(dev.resolve("console"))) {
                    int mode = (Integer) Files.getAttribute(file, "unix:mode");
                    int type = mode & S_IFMT;
                    if (type == S_IFCHR || type == S_IFBLK) {
                        long rdev = (Long) Files.getAttribute(file, "unix:rdev");
                        ObjectNode device = devices.addObject();
                        device.put("path", file.toString());
                        device.put("type", type == S_IFCHR ? "c" : "b");
                        // glibc's gnu_dev_major / gnu_dev_minor
                        device.put("major", ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL));
                        device.put("minor", (rdev & 0xff) | ((rdev >>> 12) & ~0xffL));
                        device.put("fileMode", mode & 07777);
                        device.put("uid", (Integer) Files.getAttribute(file, "unix:uid"));
                        device.put("gid", (Integer) Files.getAttribute(file, "unix:gid"));
                    }
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                return FileVisitResult.CONTINUE; // a device that vanished meanwhile
            }
        });
        return devices;
    }
}
