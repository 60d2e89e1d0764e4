package io.berth.storage.devicemapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Facts about block devices that Java's file API does not give (its size of a device node is 0). */
final class BlockDevices {

    /** {@code S_IFMT} and {@code S_IFBLK} of {@code stat(2)}'s mode. */
    private static final int TYPE_MASK = 0170000;
    private static final int BLOCK_DEVICE = 0060000;

    private BlockDevices() {
    }

    static boolean isBlockDevice(Path path) throws IOException {
        return ((Integer) Files.getAttribute(path, "unix:mode") & TYPE_MASK) == BLOCK_DEVICE;
    }

    /** The device's size in 512-byte sectors, from {@code /sys/dev/block/MAJOR:MINOR/size}. */
    static long sectors(Path device) throws IOException {
        long rdev = (Long) Files.getAttribute(device, "unix:rdev");
        long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & 0xfffff000L);
        long minor = (rdev & 0xff) | ((rdev >>> 12) & 0xffffff00L);
        Path size = Path.of("/sys/dev/block", major + ":" + minor, "size");
        try {
            return Long.parseLong(Files.readString(size).trim());
        } catch (IOException | NumberFormatException e) {
            throw new IOException("cannot read the size of " + device + " from " + size + ": " + e.getMessage(), e);
        }
    }
}
