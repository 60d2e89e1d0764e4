package io.berth.storage.devicemapper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.spi.driver.DriverStatus;
import io.berth.storage.support.Commands;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What only devicemapper has: a pool that can run out of space, a pool that
 * outlives the driver (and a reboot), thin devices that come and go with
 * mounts, xfs. Runs in the VM that {@link DeviceMapperVmTest} boots.
 */
class DeviceMapperPoolInGuest {

    @TempDir
    Path temp;

    private final List<DeviceMapperStorageDriver> opened = new ArrayList<>();

    private DeviceMapperStorageDriver open(PoolOptions options) {
        DeviceMapperStorageDriver driver = GuestPools.open(temp.resolve("devicemapper"), options);
        opened.add(driver);
        return driver;
    }

    @AfterEach
    void tearDownPools() throws Exception {
        // the last instance on the root holds the devices; earlier ones were deactivated or share them
        if (!opened.isEmpty() && opened.get(opened.size() - 1).metadataDevice() != null) {
            GuestPools.tearDown(opened.get(opened.size() - 1));
        }
    }

    @Test
    void aFullPoolIsAClearWriteErrorAndStaysIntact() throws Exception {
        // 32 MiB of data under 128 MiB devices: over-provisioned, as thin pools are
        DeviceMapperStorageDriver driver = open(GuestPools.loopback(32L << 20, 128L << 20, "ext4"));
        driver.create("keep", null);
        Files.writeString(driver.get("keep").resolve("kept"), "still here");
        driver.put("keep");
        driver.create("hog", null);
        Path view = driver.get("hog");
        IOException full = assertThrows(IOException.class, () -> {
            try (FileChannel out = FileChannel.open(view.resolve("big"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE)) {
                byte[] chunk = new byte[1 << 20];
                for (int i = 0; i < 64; i++) {
                    chunk[0] = (byte) i; // not all zeros, as a real layer's content
                    out.write(ByteBuffer.wrap(chunk));
                    out.force(true); // the pool's error comes back from the device at writeback
                }
            }
        });
        String message = full.getMessage() == null ? full.toString() : full.getMessage();
        assertTrue(message.contains("No space left on device") || message.contains("Input/output error"),
                "a full pool fails the write with ENOSPC or EIO: " + message);
        IOException refused = assertThrows(IOException.class, () -> driver.create("more", null));
        assertTrue(refused.getMessage().contains("is full") || refused.getMessage().contains("mode"),
                refused.getMessage());
        assertFalse(driver.exists("more"), "a refused create leaves no layer");
        driver.put("hog");
        driver.remove("hog");
        // the pool is intact: the other layer reads back, and its space comes back for new layers
        Path kept = driver.get("keep");
        assertEquals("still here", Files.readString(kept.resolve("kept")));
        driver.put("keep");
        driver.create("after", null);
        Files.writeString(driver.get("after").resolve("file"), "fits again");
        driver.put("after");
        assertEquals(DriverStatus.State.ACTIVE, driver.status().state(), driver.status().reason());
    }

    @Test
    void aRebootedPoolComesBackWithItsLayers() throws Exception {
        PoolOptions options = GuestPools.loopback(GuestPools.DATA, GuestPools.BASE, "ext4");
        DeviceMapperStorageDriver driver = open(options);
        driver.create("base", null);
        Files.writeString(driver.get("base").resolve("etc-config"), "base");
        driver.put("base");
        driver.createReadWrite("container", "base");
        Files.writeString(driver.get("container").resolve("etc-config"), "container");
        driver.put("container");
        Path metadata = driver.metadataDevice();
        driver.deactivate(); // every device, the pool, the loop devices: what a reboot leaves
        String devices = Commands.check(GuestPools.dmsetup("ls"), null, Duration.ofMinutes(1));
        assertFalse(devices.contains(driver.poolName()), devices);

        DeviceMapperStorageDriver again = open(options);
        assertEquals(DriverStatus.State.ACTIVE, again.status().state(), again.status().reason());
        assertTrue(again.exists("base") && again.exists("container"));
        assertEquals("base", again.parent("container"));
        assertEquals("base", Files.readString(again.get("base").resolve("etc-config")));
        assertEquals("container", Files.readString(again.get("container").resolve("etc-config")));
        again.put("base");
        again.put("container");
        assertNotEquals(metadata, null);
    }

    @Test
    void aNewInstanceTakesOverMountedLayers() throws Exception {
        PoolOptions options = GuestPools.loopback(GuestPools.DATA, GuestPools.BASE, "ext4");
        DeviceMapperStorageDriver driver = open(options);
        driver.create("base", null);
        Path view = driver.get("base");
        Files.writeString(view.resolve("running"), "yes");
        // a bundle update: the old instance is dropped with the layer mounted, a new one starts
        DeviceMapperStorageDriver next = open(options);
        assertEquals("yes", Files.readString(view.resolve("running")), "the mount stays");
        assertThrows(IOException.class, () -> next.remove("base"), "still counted as in use");
        assertEquals(view, next.get("base"));
        next.put("base");
        next.put("base");
        next.remove("base");
        assertFalse(next.exists("base"));
    }

    @Test
    void aBusyLayerIsRemovedAndItsDeviceDeletedOnceItIsFree() throws Exception {
        DeviceMapperStorageDriver driver = open(GuestPools.loopback(GuestPools.DATA, GuestPools.BASE, "ext4"));
        driver.create("base", null);
        Path view = driver.get("base");
        try (var held = Files.newInputStream(Files.writeString(view.resolve("held"), "open"))) {
            driver.put("base"); // busy: unmounted lazily, the device goes when the file is closed
            driver.remove("base");
            assertFalse(driver.exists("base"));
            assertEquals("1", driver.status().details().get("Deferred Deletions"), driver.status().details().toString());
        }
        driver.create("next", null); // retries the deletion, now that nothing holds the device
        assertEquals("0", driver.status().details().get("Deferred Deletions"), driver.status().details().toString());
    }

    @Test
    void xfsLayersWorkToo() throws Exception {
        DeviceMapperStorageDriver driver = open(GuestPools.loopback(GuestPools.DATA, 320L << 20, "xfs"));
        driver.create("base", null);
        Files.writeString(driver.get("base").resolve("f"), "xfs");
        driver.put("base");
        driver.create("child", "base");
        Path child = driver.get("child");
        Path base = driver.get("base"); // both mounted at once: same filesystem uuid, nouuid lets it
        Files.writeString(child.resolve("f"), "changed");
        assertEquals("xfs", Files.readString(base.resolve("f")));
        assertEquals("xfs", driver.status().details().get("Backing Filesystem"));
        driver.put("child");
        driver.put("base");
    }

    @Test
    void theStatusShowsThePoolsUsageAndTheLoopWarning() throws Exception {
        DeviceMapperStorageDriver driver = open(GuestPools.loopback(GuestPools.DATA, GuestPools.BASE, "ext4"));
        long before = driver.poolUsage().usedDataBlocks();
        driver.create("base", null);
        Files.write(driver.get("base").resolve("data"), new byte[4 << 20]);
        driver.put("base");
        assertTrue(driver.poolUsage().usedDataBlocks() > before, "writes take pool blocks");
        var details = driver.status().details();
        assertEquals(driver.poolName(), details.get("Pool Name"));
        assertEquals("512.0 MB", details.get("Data Space Total"));
        assertTrue(details.get("Warning").contains("not for production"), details.toString());
        assertEquals("rw", details.get("Pool Mode"));
    }
}
