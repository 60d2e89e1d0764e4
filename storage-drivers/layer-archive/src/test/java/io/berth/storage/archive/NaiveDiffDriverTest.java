package io.berth.storage.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.spi.driver.DriverStatus;
import io.berth.spi.storage.Change;
import io.berth.spi.storage.DiffDriver;
import io.berth.spi.storage.LayerNotFoundException;
import io.berth.spi.storage.StorageCapability;
import io.berth.spi.storage.StorageDriver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NaiveDiffDriverTest {

    /** A real (if minimal) copy-on-create driver: each layer a full copy of its parent, made with cp -a. */
    static class CopyDriver implements StorageDriver {
        final Path home;
        final Map<String, String> parents = new ConcurrentHashMap<>();
        final Map<String, Integer> mounts = new ConcurrentHashMap<>();

        CopyDriver(Path home) {
            this.home = home;
        }

        @Override
        public void create(String id, String parent) throws IOException {
            if (parent != null && !exists(parent)) {
                throw new LayerNotFoundException(parent);
            }
            if (parent == null) {
                Files.createDirectories(home.resolve(id));
            } else {
                Trees.run("cp", "-a", home.resolve(parent).toString(), home.resolve(id).toString());
                parents.put(id, parent);
            }
        }

        @Override
        public void createReadWrite(String id, String parent) throws IOException {
            create(id, parent);
        }

        @Override
        public Path get(String id) throws IOException {
            if (!exists(id)) {
                throw new LayerNotFoundException(id);
            }
            mounts.merge(id, 1, Integer::sum);
            return home.resolve(id);
        }

        @Override
        public void put(String id) {
            mounts.merge(id, -1, Integer::sum);
        }

        @Override
        public boolean exists(String id) {
            return Files.isDirectory(home.resolve(id));
        }

        @Override
        public void remove(String id) throws IOException {
            io.berth.storage.support.DiskFiles.deleteTree(home.resolve(id));
        }

        @Override
        public long usage(String id) {
            return 0;
        }

        @Override
        public String parent(String id) {
            return parents.get(id);
        }

        @Override
        public Set<StorageCapability> capabilities() {
            return EnumSet.allOf(StorageCapability.class);
        }

        @Override
        public DriverStatus status() {
            return DriverStatus.active(Map.of());
        }

        void assertBalanced() {
            mounts.forEach((id, count) -> assertEquals(0, count, "get/put of " + id));
        }
    }

    @TempDir
    Path temp;
    CopyDriver driver;
    DiffDriver diffs;

    @BeforeEach
    void setUp() throws IOException {
        driver = new CopyDriver(Files.createDirectories(temp.resolve("driver")));
        diffs = NaiveDiffDriver.of(driver);
    }

    @Test
    void ofReturnsADiffDriverItself() {
        assertSame(diffs, NaiveDiffDriver.of(diffs));
        assertTrue(diffs instanceof NaiveDiffDriver);
    }

    @Test
    void diffApplyAndChangesRoundTripAndAlwaysPutWhatTheyGet() throws IOException {
        driver.create("base", null);
        RoundTripTest.populate(driver.get("base"));
        driver.put("base");
        driver.create("top", "base");
        Path top = driver.get("top");
        Files.writeString(top.resolve("etc/passwd"), "changed\n");
        Files.delete(top.resolve("bin/link"));
        Files.writeString(top.resolve("added"), "added");
        driver.put("top");

        byte[] baseTar;
        byte[] topTar;
        try (InputStream in = diffs.diff("base", null)) {
            baseTar = in.readAllBytes();
        }
        try (InputStream in = diffs.diff("top", "base")) {
            topTar = in.readAllBytes();
        }
        assertEquals(List.of(new Change("/added", Change.Kind.ADDED), new Change("/bin/link", Change.Kind.DELETED),
                new Change("/etc/passwd", Change.Kind.MODIFIED)), diffs.changes("top", "base"));

        CopyDriver other = new CopyDriver(Files.createDirectories(temp.resolve("other")));
        DiffDriver otherDiffs = NaiveDiffDriver.of(other);
        otherDiffs.create("base", null);
        assertTrue(otherDiffs.applyDiff("base", null, new ByteArrayInputStream(baseTar)) > 3_000_000);
        otherDiffs.create("top", "base");
        otherDiffs.applyDiff("top", "base", new ByteArrayInputStream(topTar));
        assertEquals(Trees.snapshot(driver.home.resolve("base")), Trees.snapshot(other.home.resolve("base")));
        assertEquals(Trees.snapshot(driver.home.resolve("top")), Trees.snapshot(other.home.resolve("top")));

        driver.assertBalanced();
        other.assertBalanced();
    }

    @Test
    void failuresAndEarlyClosesStillPut() throws Exception {
        driver.create("base", null);
        Files.write(driver.home.resolve("base/big"), new byte[20 * 1024 * 1024]);
        assertThrows(LayerArchiveException.class, () -> diffs.applyDiff("base", null,
                new ByteArrayInputStream(Tars.of(Tars.file("../escape", "x")))));
        assertThrows(LayerNotFoundException.class, () -> diffs.diff("base", "missing"));
        assertThrows(LayerNotFoundException.class, () -> diffs.changes("base", "missing"));

        InputStream early = diffs.diff("base", null);
        early.read(new byte[1000]);
        early.close();
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            while (driver.mounts.get("base") != 0) {
                Thread.sleep(10);
            }
        });
        driver.assertBalanced();
    }

    @Test
    void delegates() throws IOException {
        diffs.create("a", null);
        diffs.createReadWrite("b", "a");
        assertTrue(diffs.exists("b"));
        assertEquals("a", diffs.parent("b"));
        assertEquals(EnumSet.allOf(StorageCapability.class), diffs.capabilities());
        assertEquals(DriverStatus.State.ACTIVE, diffs.status().state());
        assertEquals(driver.home.resolve("b"), diffs.get("b"));
        diffs.put("b");
        diffs.remove("b");
        assertTrue(!driver.exists("b"));
        driver.assertBalanced();
    }
}
