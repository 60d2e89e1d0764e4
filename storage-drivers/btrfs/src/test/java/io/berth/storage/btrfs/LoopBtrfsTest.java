package io.berth.storage.btrfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The test filesystem itself: it is real btrfs, and it leaves no mount, loop device or file behind. */
class LoopBtrfsTest {

    @Test
    void mountsBtrfsAndCleansUpEverything() throws Exception {
        Path mountPoint;
        Path device;
        Path image;
        try (LoopBtrfs btrfs = new LoopBtrfs()) {
            btrfs.start();
            mountPoint = btrfs.mountPoint();
            device = btrfs.loopDevice();
            image = btrfs.image();
            assertEquals("btrfs", Files.getFileStore(mountPoint).type());
            Files.writeString(btrfs.newDirectory("x").resolve("file"), "data");
            assertTrue(mountinfo().contains(" " + mountPoint + " "));
            assertTrue(LoopBtrfs.run("losetup", "-a").contains(device + ":"));
        }
        assertFalse(mountinfo().contains(" " + mountPoint + " "), "still mounted: " + mountPoint);
        assertFalse(LoopBtrfs.run("losetup", "-a").contains(image.toString()), "still attached: " + device);
        assertFalse(Files.exists(image));
        assertFalse(Files.exists(mountPoint.getParent()));
    }

    @Test
    void mountPointBeforeStartIsAnError() {
        assertThrows(IllegalStateException.class, () -> new LoopBtrfs().mountPoint());
    }

    private static String mountinfo() throws Exception {
        return Files.readString(Path.of("/proc/self/mountinfo"));
    }

    private static void assertTrue(boolean condition) {
        org.junit.jupiter.api.Assertions.assertTrue(condition);
    }
}
