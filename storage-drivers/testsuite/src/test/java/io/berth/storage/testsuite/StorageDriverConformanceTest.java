package io.berth.storage.testsuite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.berth.spi.storage.Change;
import io.berth.spi.storage.DiffDriver;
import io.berth.spi.storage.LayerNotFoundException;
import io.berth.spi.storage.StorageCapability;
import io.berth.spi.storage.StorageDriver;
import io.berth.storage.archive.NaiveDiffDriver;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one conformance suite every storage driver runs. A driver module
 * subclasses it with a factory ({@link #newDriver}); each test gets a fresh
 * root. On failure the test's directory tree is printed. A test is skipped
 * only when the driver does not declare the {@link StorageCapability} it needs.
 */
public abstract class StorageDriverConformanceTest {

    /** Parent chains this deep must work (Docker images rarely exceed 127 layers; overlay needs tricks past 128). */
    static final int DEEP_CHAIN = 130;

    @TempDir
    protected Path temp;

    @RegisterExtension
    final TreeDumpOnFailure dump = new TreeDumpOnFailure(() -> temp);

    protected StorageDriver driver;
    private final List<StorageDriver> drivers = new ArrayList<>();

    /** A driver rooted at {@code root} (an empty directory that the driver owns). */
    protected abstract StorageDriver newDriver(Path root) throws Exception;

    /**
     * A fresh, empty directory for a driver root. Drivers that need a
     * particular filesystem (btrfs) override this.
     */
    protected Path newRoot(String name) throws IOException {
        return Files.createDirectories(temp.resolve(name));
    }

    @BeforeEach
    void createDriver() throws Exception {
        driver = open("driver");
    }

    private StorageDriver open(String name) throws Exception {
        StorageDriver created = newDriver(newRoot(name));
        drivers.add(created);
        return created;
    }

    /** Unmounts whatever a failed test left mounted below its directory, so no test leaks a mount. */
    @AfterEach
    void unmountLeftovers() throws Exception {
        Mounts.unmountBelow(temp);
    }

    // --- the basics ---------------------------------------------------------------------------

    @Test
    void createMountWriteUnmountAndMountAgain() throws Exception {
        driver.create("base", null);
        assertTrue(driver.exists("base"));
        Path mounted = driver.get("base");
        Files.writeString(mounted.resolve("hello.txt"), "hello");
        driver.put("base");
        Path again = driver.get("base");
        assertEquals("hello", Files.readString(again.resolve("hello.txt")));
        driver.put("base");
        assertNull(driver.parent("base"));
    }

    @Test
    void unknownLayersAreReportedAsSuch() throws Exception {
        assertFalse(driver.exists("nope"));
        assertThrows(LayerNotFoundException.class, () -> driver.get("nope"));
        assertThrows(LayerNotFoundException.class, () -> driver.create("child", "nope"));
        assertFalse(driver.exists("child"), "a failed create leaves no layer");
        assertThrows(IllegalArgumentException.class, () -> driver.create("../escape", null));
    }

    @Test
    void aWritableLayerSeesItsParentAndChangesOnlyItself() throws Exception {
        driver.create("base", null);
        write(driver, "base", "etc/config", "original");
        driver.createReadWrite("container", "base");
        assertEquals("base", driver.parent("container"));
        Path view = driver.get("container");
        try {
            assertEquals("original", Files.readString(view.resolve("etc/config")));
            Files.writeString(view.resolve("etc/config"), "changed");
            Files.writeString(view.resolve("new"), "new");
        } finally {
            driver.put("container");
        }
        assertEquals("original", read(driver, "base", "etc/config"));
        assertFalse(exists(driver, "base", "new"));
        assertEquals("changed", read(driver, "container", "etc/config"));
    }

    @Test
    void aChainOf130LayersMountsAndShowsEveryLayer() throws Exception {
        String parent = null;
        for (int i = 0; i < DEEP_CHAIN; i++) {
            String id = "layer" + i;
            driver.create(id, parent);
            write(driver, id, "files/f" + i, Integer.toString(i));
            parent = id;
        }
        Path top = driver.get(parent);
        try {
            for (int i = 0; i < DEEP_CHAIN; i++) {
                assertEquals(Integer.toString(i), Files.readString(top.resolve("files/f" + i)));
            }
        } finally {
            driver.put(parent);
        }
    }

    @Test
    void aLayerWithAChildCannotBeRemoved() throws Exception {
        driver.create("base", null);
        driver.create("child", "base");
        assertThrows(IOException.class, () -> driver.remove("base"));
        assertTrue(driver.exists("base"));
        assertEquals("base", driver.parent("child"));
        driver.remove("child");
        driver.remove("base");
        assertFalse(driver.exists("base"));
        assertFalse(driver.exists("child"));
    }

    @Test
    void aMountedLayerCannotBeRemovedUntilEveryGetIsPut() throws Exception {
        driver.create("base", null);
        driver.get("base");
        driver.get("base");
        assertThrows(IOException.class, () -> driver.remove("base"));
        driver.put("base");
        assertThrows(IOException.class, () -> driver.remove("base"));
        driver.put("base");
        driver.remove("base");
        assertFalse(driver.exists("base"));
    }

    @Test
    void oneLayerMountedFromManyThreadsAtOnce() throws Exception {
        driver.create("base", null);
        write(driver, "base", "data", "shared");
        driver.createReadWrite("container", "base");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<String>> reads = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                Callable<String> read = () -> {
                    Path view = driver.get("container");
                    try {
                        return Files.readString(view.resolve("data"));
                    } finally {
                        driver.put("container");
                    }
                };
                reads.add(pool.submit(read));
            }
            for (Future<String> read : reads) {
                assertEquals("shared", read.get(60, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
        driver.remove("container"); // every get was put: nothing holds it
        assertFalse(driver.exists("container"));
    }

    @Test
    void usageCountsTheLayersOwnContent() throws Exception {
        driver.create("base", null);
        Path view = driver.get("base");
        try {
            Files.write(view.resolve("big"), new byte[1024 * 1024]);
        } finally {
            driver.put("base");
        }
        assertTrue(driver.usage("base") >= 1024 * 1024, "usage " + driver.usage("base"));
    }

    // --- diffs ----------------------------------------------------------------------------------

    @Test
    void diffAndApplyRoundTripKeepEverything() throws Exception {
        DiffDriver diffs = NaiveDiffDriver.of(driver);
        driver.create("base", null);
        Path base = driver.get("base");
        try {
            RichTree.populateBase(base, driver.capabilities());
        } finally {
            driver.put("base");
        }
        driver.create("top", "base");
        Path top = driver.get("top");
        try {
            RichTree.changeInChild(top);
        } finally {
            driver.put("top");
        }
        byte[] baseTar = tar(diffs.diff("base", null));
        byte[] topTar = tar(diffs.diff("top", "base"));

        DiffDriver other = NaiveDiffDriver.of(open("other"));
        other.create("base", null);
        other.applyDiff("base", null, new ByteArrayInputStream(baseTar));
        other.create("top", "base");
        other.applyDiff("top", "base", new ByteArrayInputStream(topTar));

        assertTreesEqual(driver, other, "base");
        assertTreesEqual(driver, other, "top");
    }

    @Test
    void changesListAddedModifiedAndDeletedPaths() throws Exception {
        DiffDriver diffs = NaiveDiffDriver.of(driver);
        driver.create("base", null);
        Path base = driver.get("base");
        try {
            Files.createDirectories(base.resolve("etc"));
            Files.writeString(base.resolve("etc/keep"), "same");
            Files.writeString(base.resolve("etc/edit"), "before");
            Files.writeString(base.resolve("etc/drop"), "gone soon");
        } finally {
            driver.put("base");
        }
        driver.createReadWrite("container", "base");
        Path view = driver.get("container");
        try {
            Files.writeString(view.resolve("etc/edit"), "after, longer");
            Files.delete(view.resolve("etc/drop"));
            Files.writeString(view.resolve("etc/added"), "new");
        } finally {
            driver.put("container");
        }
        List<Change> changes = diffs.changes("container", "base");
        assertTrue(changes.contains(new Change("/etc/edit", Change.Kind.MODIFIED)), changes.toString());
        assertTrue(changes.contains(new Change("/etc/drop", Change.Kind.DELETED)), changes.toString());
        assertTrue(changes.contains(new Change("/etc/added", Change.Kind.ADDED)), changes.toString());
        assertTrue(changes.stream().noneMatch(change -> change.path().equals("/etc/keep")), changes.toString());
    }

    @Test
    void applyingAWhiteoutAndAnOpaqueDirectoryHidesTheParentsFiles() throws Exception {
        DiffDriver diffs = NaiveDiffDriver.of(driver);
        driver.create("base", null);
        Path base = driver.get("base");
        try {
            Files.createDirectories(base.resolve("gone-dir"));
            Files.writeString(base.resolve("gone-file"), "x");
            Files.createDirectories(base.resolve("opaque"));
            Files.writeString(base.resolve("opaque/old"), "old");
            Files.writeString(base.resolve("gone-dir/inside"), "x");
        } finally {
            driver.put("base");
        }
        driver.create("top", "base");
        diffs.applyDiff("top", "base", new ByteArrayInputStream(Tars.of(
                Tars.file(".wh.gone-file", ""),
                Tars.file(".wh.gone-dir", ""),
                Tars.dir("opaque/"),
                Tars.file("opaque/.wh..wh..opq", ""),
                Tars.file("opaque/new", "new"))));
        Path view = driver.get("top");
        try {
            assertFalse(Files.exists(view.resolve("gone-file"), LinkOption.NOFOLLOW_LINKS));
            assertFalse(Files.exists(view.resolve("gone-dir"), LinkOption.NOFOLLOW_LINKS));
            assertFalse(Files.exists(view.resolve("opaque/old"), LinkOption.NOFOLLOW_LINKS));
            assertEquals("new", Files.readString(view.resolve("opaque/new")));
        } finally {
            driver.put("top");
        }
        assertEquals("old", read(driver, "base", "opaque/old"), "the parent keeps its files");
    }

    @Test
    void aChildsDiffAppliedBeforeItsParentsGivesTheSameView() throws Exception {
        requireCapability(StorageCapability.INDEPENDENT_DIFFS);
        DiffDriver diffs = (DiffDriver) driver; // the capability promises it of the driver's own applyDiff
        driver.create("bottom", null);
        driver.create("middle", "bottom");
        driver.create("top", "middle");
        // Top first, then bottom, then middle: as a pull whose small top layer arrives first.
        diffs.applyDiff("top", "middle", new ByteArrayInputStream(Tars.of(
                Tars.file("etc/.wh.old", ""),
                Tars.file("etc/top", "top"),
                Tars.hardlink("etc/top-again", "etc/top"))));
        diffs.applyDiff("bottom", null, new ByteArrayInputStream(Tars.of(
                Tars.dir("etc/"), Tars.file("etc/old", "old"), Tars.file("etc/kept", "bottom"))));
        diffs.applyDiff("middle", "bottom", new ByteArrayInputStream(Tars.of(
                Tars.file("etc/kept", "middle"), Tars.file("etc/middle", "middle"))));
        Path view = driver.get("top");
        try {
            assertFalse(Files.exists(view.resolve("etc/old"), LinkOption.NOFOLLOW_LINKS));
            assertEquals("middle", Files.readString(view.resolve("etc/kept")));
            assertEquals("middle", Files.readString(view.resolve("etc/middle")));
            assertEquals("top", Files.readString(view.resolve("etc/top-again")));
        } finally {
            driver.put("top");
        }
        assertEquals("old", read(driver, "middle", "etc/old"), "the layers below keep their files");
        assertEquals(List.of(new Change("/etc", Change.Kind.MODIFIED), new Change("/etc/old", Change.Kind.DELETED),
                        new Change("/etc/top", Change.Kind.ADDED), new Change("/etc/top-again", Change.Kind.ADDED)),
                diffs.changes("top", "middle"));
    }

    // --- hostile layer tars ---------------------------------------------------------------------

    @Test
    void hostileTarsAreRefusedAndWriteNothingOutside() throws Exception {
        DiffDriver diffs = NaiveDiffDriver.of(driver);
        Path outside = Files.createDirectories(temp.resolve("outside"));
        List<byte[]> hostile = List.of(
                Tars.of(Tars.file("../../outside/escaped", "x")),
                Tars.of(Tars.file(outside.resolve("absolute").toString(), "x")),
                Tars.of(Tars.symlink("link", outside.toString()), Tars.file("link/through-symlink", "x")),
                Tars.of(Tars.symlink("up", "../../.."), Tars.file("up/outside/through-relative", "x")),
                Tars.of(Tars.hardlink("hard", "../../outside/sentinel")),
                // a directory replaced by a symlink later in the same tar, then written through
                Tars.of(Tars.dir("swap/"), Tars.symlink("swap", outside.toString()), Tars.file("swap/through-swap", "x")),
                Tars.of(Tars.file("ok", "fine"), Tars.file("../.wh.outside", "")));
        Files.writeString(outside.resolve("sentinel"), "untouched");
        int n = 0;
        for (byte[] tar : hostile) {
            String id = "hostile" + n++;
            driver.create(id, null);
            assertThrows(IOException.class, () -> diffs.applyDiff(id, null, new ByteArrayInputStream(tar)),
                    "tar " + (n - 1) + " must be refused");
            driver.remove(id); // the refused layer can be cleaned up
        }
        try (var entries = Files.list(outside)) {
            assertEquals(List.of(outside.resolve("sentinel")), entries.toList());
        }
        assertEquals("untouched", Files.readString(outside.resolve("sentinel")));
        // The driver still works.
        driver.create("after", null);
        write(driver, "after", "file", "ok");
        assertEquals("ok", read(driver, "after", "file"));
    }

    @Test
    void aTruncatedTarIsRefused() throws Exception {
        DiffDriver diffs = NaiveDiffDriver.of(driver);
        byte[] tar = Tars.of(Tars.file("big", "x".repeat(10_000)));
        byte[] truncated = java.util.Arrays.copyOf(tar, 2048);
        driver.create("base", null);
        assertThrows(IOException.class, () -> diffs.applyDiff("base", null, new ByteArrayInputStream(truncated)));
    }

    // --- helpers --------------------------------------------------------------------------------

    /** Skips the calling test unless the driver declares the capability. */
    protected void requireCapability(StorageCapability capability) {
        assumeTrue(driver.capabilities().contains(capability),
                "driver does not declare " + capability);
    }

    private static byte[] tar(InputStream diff) throws IOException {
        try (InputStream in = diff) {
            return in.readAllBytes();
        }
    }

    private static void assertTreesEqual(StorageDriver a, StorageDriver b, String id) throws IOException {
        Path left = a.get(id);
        Path right = b.get(id);
        try {
            Map<String, String> expected = TreeSnapshot.of(left);
            Map<String, String> actual = TreeSnapshot.of(right);
            expected.remove("/");
            actual.remove("/");
            assertEquals(expected, actual, "layer " + id + " after diff and apply");
        } finally {
            a.put(id);
            b.put(id);
        }
    }

    static void write(StorageDriver driver, String id, String path, String content) throws IOException {
        Path view = driver.get(id);
        try {
            Path file = view.resolve(path);
            Files.createDirectories(file.getParent());
            Files.writeString(file, content);
        } finally {
            driver.put(id);
        }
    }

    static String read(StorageDriver driver, String id, String path) throws IOException {
        Path view = driver.get(id);
        try {
            return Files.readString(view.resolve(path));
        } finally {
            driver.put(id);
        }
    }

    static boolean exists(StorageDriver driver, String id, String path) throws IOException {
        Path view = driver.get(id);
        try {
            return Files.exists(view.resolve(path), LinkOption.NOFOLLOW_LINKS);
        } finally {
            driver.put(id);
        }
    }
}
