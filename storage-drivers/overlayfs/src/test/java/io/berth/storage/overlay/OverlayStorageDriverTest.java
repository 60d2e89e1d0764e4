package io.berth.storage.overlay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.spi.driver.DriverStatus;
import io.berth.spi.storage.Change;
import io.berth.spi.storage.StorageCapability;
import io.berth.storage.support.Commands;
import io.berth.storage.support.MountTable;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** overlay2-specific behaviour with real mounts; the generic contract is in {@link OverlayConformanceTest}. */
class OverlayStorageDriverTest {

    @TempDir
    Path dataRoot;

    private Path root;
    private OverlayStorageDriver driver;

    @BeforeEach
    void start() {
        root = dataRoot.resolve("overlay2");
        driver = new OverlayStorageDriver(root);
        // Fails loudly on a host without overlay instead of passing silently.
        assertTrue(driver.status().isActive(), driver.status().reason());
        root = driver.root();
    }

    /** No test leaves a mount behind, even when it failed half-way. */
    @AfterEach
    void unmountEverything() throws IOException {
        Path base = dataRoot.toRealPath();
        List<Path> left = new ArrayList<>(MountTable.read().below(base));
        left.sort(Comparator.comparingInt(Path::getNameCount).reversed());
        for (Path mount : left) {
            Commands.run(List.of("umount", "-l", mount.toString()), null, OverlayStorageDriver.COMMAND_TIMEOUT);
        }
        assertEquals(List.of(), new ArrayList<>(MountTable.read().below(base)), "mounts left behind");
        assertTrue(left.isEmpty(), "the test left mounts behind: " + left);
    }

    // --- mounting ------------------------------------------------------------------------------

    @Test
    void aBaseLayerIsItsDiffAndAChildIsAnOverlayMount() throws Exception {
        driver.create("base", null);
        Path base = driver.get("base");
        assertEquals(root.resolve("base/diff"), base, "a layer without parents is not mounted");
        Files.writeString(base.resolve("hello"), "from base");
        driver.put("base");

        driver.createReadWrite("container", "base");
        Path view = driver.get("container");
        try {
            assertEquals(root.resolve("container/merged"), view);
            assertTrue(isMounted(view));
            assertEquals("overlay", Files.getFileStore(view).type());
            assertEquals("from base", Files.readString(view.resolve("hello")));
            Files.writeString(view.resolve("mine"), "container");
        } finally {
            driver.put("container");
        }
        assertFalse(isMounted(root.resolve("container/merged")), "the last put unmounts");
        assertEquals("container", Files.readString(root.resolve("container/diff/mine")), "writes land in the upper dir");
        assertFalse(Files.exists(root.resolve("base/diff/mine")));
        assertEquals(0, driver.mountCount("container"));
    }

    @Test
    void theLayoutIsOverlay2s() throws Exception {
        driver.create("base", null);
        driver.create("middle", "base");
        driver.create("top", "middle");
        String baseLink = Files.readString(root.resolve("base/link"));
        String middleLink = Files.readString(root.resolve("middle/link"));
        assertEquals(Path.of("../base/diff"), Files.readSymbolicLink(root.resolve("l").resolve(baseLink)));
        assertFalse(Files.exists(root.resolve("base/lower")));
        assertEquals("l/" + baseLink, Files.readString(root.resolve("middle/lower")));
        assertEquals("l/" + middleLink + ":l/" + baseLink, Files.readString(root.resolve("top/lower")));
        assertEquals("middle", driver.parent("top"));
        for (String dir : List.of("diff", "work", "merged")) {
            assertTrue(Files.isDirectory(root.resolve("top").resolve(dir)), dir);
        }
    }

    @Test
    void copyOnWriteLeavesTheParentUnchanged() throws Exception {
        driver.create("base", null);
        write("base", "etc/config", "original");
        write("base", "etc/untouched", "same");
        driver.createReadWrite("container", "base");
        Path view = driver.get("container");
        try {
            Files.writeString(view.resolve("etc/config"), "changed");
        } finally {
            driver.put("container");
        }
        assertEquals("original", Files.readString(root.resolve("base/diff/etc/config")));
        assertEquals("changed", Files.readString(root.resolve("container/diff/etc/config")));
        assertFalse(Files.exists(root.resolve("container/diff/etc/untouched")), "unchanged files are not copied up");
        List<Change> changes = driver.changes("container", "base");
        assertEquals(List.of(new Change("/etc", Change.Kind.MODIFIED), new Change("/etc/config", Change.Kind.MODIFIED)),
                changes);

        // Copy-up leaves overlay's own bookkeeping (origin, impure, uuid) in the upper dir; a layer tar must not carry it.
        for (TarArchiveEntry entry : entries(driver.diff("container", "base")).values()) {
            for (String header : entry.getExtraPaxHeaders().keySet()) {
                assertFalse(header.contains("trusted.overlay."), entry.getName() + " carries " + header);
            }
        }
    }

    @Test
    void aChainOf130LayersMountsWithShortRelativeOptions() throws Exception {
        String parent = null;
        for (int i = 0; i < 130; i++) {
            String id = "layer" + i;
            driver.create(id, parent);
            Path dir = Files.createDirectories(root.resolve(id).resolve("diff/files"));
            Files.writeString(dir.resolve("f" + i), Integer.toString(i)); // straight into the upper dir, as applyDiff does
            parent = id;
        }
        driver.createReadWrite("container", parent);
        Path view = driver.get("container");
        try {
            assertEquals("0", Files.readString(view.resolve("files/f0")), "the bottom layer shows through 130 layers");
            assertEquals("129", Files.readString(view.resolve("files/f129")));
            String options = mountOptions(view);
            assertTrue(options.contains("lowerdir=l/"), options);
            assertTrue(options.contains("upperdir=container/diff"), options);
            assertTrue(options.length() < 4096, "options of " + options.length() + " bytes");
        } finally {
            driver.put("container");
        }
        assertFalse(isMounted(view));
    }

    // --- diffs ---------------------------------------------------------------------------------

    @Test
    void deletingAParentsFileLeavesAWhiteoutThatTheDiffCarries() throws Exception {
        driver.create("base", null);
        write("base", "etc/gone", "x");
        write("base", "etc/kept", "y");
        driver.createReadWrite("container", "base");
        Path view = driver.get("container");
        try {
            Files.delete(view.resolve("etc/gone"));
            assertFalse(Files.exists(view.resolve("etc/gone"), LinkOption.NOFOLLOW_LINKS));
        } finally {
            driver.put("container");
        }
        Path whiteout = root.resolve("container/diff/etc/gone");
        assertTrue(OverlayStorageDriver.isWhiteout(whiteout,
                Files.readAttributes(whiteout, java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)),
                "overlay leaves a 0/0 character device");

        Map<String, TarArchiveEntry> entries = entries(driver.diff("container", "base"));
        assertTrue(entries.containsKey("etc/.wh.gone"), entries.keySet().toString());
        assertFalse(entries.containsKey("etc/gone"), entries.keySet().toString());
        assertFalse(entries.containsKey("etc/kept"), "the diff holds only the layer's own content");
        assertTrue(driver.changes("container", "base").contains(new Change("/etc/gone", Change.Kind.DELETED)));
        assertEquals("x", Files.readString(root.resolve("base/diff/etc/gone")), "the parent keeps its file");
    }

    @Test
    void aReplacedDirectoryIsOpaqueInTheUpperDirAndInTheDiff() throws Exception {
        driver.create("base", null);
        write("base", "data/old", "old");
        write("base", "data/sub/deeper", "old");
        driver.createReadWrite("container", "base");
        Path view = driver.get("container");
        try {
            Files.delete(view.resolve("data/sub/deeper"));
            Files.delete(view.resolve("data/sub"));
            Files.delete(view.resolve("data/old"));
            Files.delete(view.resolve("data"));
            Files.createDirectory(view.resolve("data"));
            Files.writeString(view.resolve("data/new"), "new");
        } finally {
            driver.put("container");
        }
        assertTrue(Xattrs.opaqueDirectories(root.resolve("container/diff")).contains(root.resolve("container/diff/data")),
                "overlay marks the new directory opaque");

        Map<String, TarArchiveEntry> entries = entries(driver.diff("container", "base"));
        assertTrue(entries.containsKey("data/.wh..wh..opq"), entries.keySet().toString());
        assertTrue(entries.containsKey("data/new"), entries.keySet().toString());

        List<Change> changes = driver.changes("container", "base");
        assertTrue(changes.contains(new Change("/data", Change.Kind.MODIFIED)), changes.toString());
        assertTrue(changes.contains(new Change("/data/new", Change.Kind.ADDED)), changes.toString());
        assertTrue(changes.contains(new Change("/data/old", Change.Kind.DELETED)), changes.toString());
        assertTrue(changes.contains(new Change("/data/sub", Change.Kind.DELETED)), changes.toString());

        // The same diff applied elsewhere makes an opaque directory again.
        byte[] baseTar = driver.diff("base", null).readAllBytes();
        byte[] containerTar = driver.diff("container", "base").readAllBytes();
        OverlayStorageDriver other = new OverlayStorageDriver(dataRoot.resolve("other"));
        other.create("base", null);
        other.applyDiff("base", null, new ByteArrayInputStream(baseTar));
        other.create("copy", "base");
        other.applyDiff("copy", "base", new ByteArrayInputStream(containerTar));
        Path copy = other.get("copy");
        try {
            assertEquals("new", Files.readString(copy.resolve("data/new")));
            try (Stream<Path> listing = Files.list(copy.resolve("data"))) {
                assertEquals(List.of(copy.resolve("data/new")), listing.toList());
            }
        } finally {
            other.put("copy");
        }
    }

    @Test
    void aDiffAgainstAnotherParentComparesTheMountedTrees() throws Exception {
        driver.create("base", null);
        write("base", "a", "a");
        driver.create("middle", "base");
        write("middle", "b", "b");
        driver.create("top", "middle");
        write("top", "c", "c");
        Map<String, TarArchiveEntry> entries = entries(driver.diff("top", "base"));
        assertTrue(entries.containsKey("b"), entries.keySet().toString());
        assertTrue(entries.containsKey("c"), entries.keySet().toString());
        assertFalse(entries.containsKey("a"), entries.keySet().toString());
        assertEquals(0, driver.mountCount("top"));
        assertEquals(0, driver.mountCount("base"));
    }

    // --- mounts outlive the driver instance ----------------------------------------------------

    @Test
    void aNewInstanceAdoptsMountsAndTheirCounts() throws Exception {
        driver.create("base", null);
        write("base", "file", "base");
        driver.createReadWrite("container", "base");
        Path view = driver.get("container");
        driver.get("container");
        Files.writeString(view.resolve("running"), "yes");

        // A bundle update: the old instance is dropped without any put; its mounts must stay.
        OverlayStorageDriver updated = new OverlayStorageDriver(root);
        assertTrue(isMounted(view), "a new instance does not unmount a counted mount");
        assertEquals(2, updated.mountCount("container"));
        assertThrows(IOException.class, () -> updated.remove("container"));
        assertEquals(view, updated.get("container"));
        assertEquals(3, updated.mountCount("container"));
        updated.put("container");
        updated.put("container");
        assertTrue(isMounted(view));
        assertEquals("yes", Files.readString(view.resolve("running")));
        updated.put("container");
        assertFalse(isMounted(view), "the new instance unmounts at zero");
        updated.remove("container");
        assertFalse(updated.exists("container"));
    }

    @Test
    void aStartResetsCountsOfMountsThatAreGoneAndUnmountsUncountedOnes() throws Exception {
        driver.create("base", null);
        driver.createReadWrite("gone", "base");
        driver.createReadWrite("orphan", "base");
        Path gone = driver.get("gone");
        Path orphan = driver.get("orphan");
        Commands.check(List.of("umount", gone.toString()), null, OverlayStorageDriver.COMMAND_TIMEOUT); // unmounted behind the driver's back
        Files.delete(root.resolve("orphan/mounts")); // a crash between mount and count
        assertTrue(isMounted(orphan));

        OverlayStorageDriver restarted = new OverlayStorageDriver(root);
        assertEquals(0, restarted.mountCount("gone"));
        assertEquals(0, restarted.mountCount("orphan"));
        assertFalse(isMounted(orphan), "nobody counted it, so nobody uses it");
        restarted.remove("gone");
        restarted.remove("orphan");
    }

    @Test
    void aCountFromAnEarlierBootIsIgnored() throws Exception {
        driver.create("base", null);
        driver.get("base");
        Files.writeString(root.resolve("base/mounts"), "3 00000000-0000-0000-0000-000000000000\n");
        assertEquals(0, driver.mountCount("base"));
        OverlayStorageDriver restarted = new OverlayStorageDriver(root);
        assertFalse(Files.exists(root.resolve("base/mounts")));
        restarted.remove("base");
    }

    // --- removal and crashes -------------------------------------------------------------------

    @Test
    void removeIsRefusedWhileMountedOrWhileALayerIsBuiltOnIt() throws Exception {
        driver.create("base", null);
        driver.createReadWrite("container", "base");
        driver.get("container");
        IOException mounted = assertThrows(IOException.class, () -> driver.remove("container"));
        assertTrue(mounted.getMessage().contains("in use"), mounted.getMessage());
        IOException parent = assertThrows(IOException.class, () -> driver.remove("base"));
        assertTrue(parent.getMessage().contains("parent of layer container"), parent.getMessage());
        driver.put("container");
        String link = Files.readString(root.resolve("container/link"));
        driver.remove("container");
        assertFalse(Files.exists(root.resolve("l").resolve(link), LinkOption.NOFOLLOW_LINKS), "its short link goes too");
        driver.remove("base");
        try (Stream<Path> left = Files.list(root)) {
            assertEquals(List.of(root.resolve("l")), left.toList());
        }
    }

    @Test
    void leftoversOfACrashDoNotBlockARetry() throws Exception {
        Files.createDirectories(root.resolve(".staging-base/diff"));
        Files.createSymbolicLink(root.resolve("l/AAAAAAAAAA"), Path.of("../base/diff"));
        Files.createDirectories(root.resolve(".removing-old/diff"));
        OverlayStorageDriver restarted = new OverlayStorageDriver(root);
        try (Stream<Path> left = Files.list(root)) {
            assertEquals(List.of(root.resolve("l")), left.toList());
        }
        try (Stream<Path> links = Files.list(root.resolve("l"))) {
            assertEquals(0, links.count(), "dangling links are removed");
        }
        restarted.create("base", null);
        assertTrue(restarted.exists("base"));
        assertThrows(FileAlreadyExistsException.class, () -> restarted.create("base", null));
    }

    @Test
    void unsafeIdsAreRefused() {
        for (String id : List.of("../escape", "a/b", "..", ".hidden", "l", "")) {
            assertThrows(IllegalArgumentException.class, () -> driver.create(id, null), id);
            assertFalse(driver.exists(id), id);
        }
    }

    // --- status --------------------------------------------------------------------------------

    @Test
    void statusAndCapabilities() {
        DriverStatus status = driver.status();
        assertEquals("ext4", status.details().get("Backing Filesystem").replace("extfs", "ext4"), status.toString());
        assertEquals("true", status.details().get("Supports d_type"));
        assertTrue(driver.capabilities().contains(StorageCapability.COPY_ON_WRITE));
        try (Stream<Path> left = Files.list(root)) {
            assertEquals(List.of(root.resolve("l")), left.toList(), "the probe cleans up after itself");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void onOverlayItselfTheDriverIsUnsupportedAndSaysWhy() throws Exception {
        Path outer = dataRoot.resolve("outer");
        for (String dir : List.of("lower", "upper", "work", "merged")) {
            Files.createDirectories(outer.resolve(dir));
        }
        Commands.check(List.of("mount", "-t", "overlay", "overlay", "-o",
                "lowerdir=lower,upperdir=upper,workdir=work", "merged"), outer, OverlayStorageDriver.COMMAND_TIMEOUT);
        try {
            OverlayStorageDriver nested = new OverlayStorageDriver(outer.resolve("merged/overlay2"));
            DriverStatus status = nested.status();
            assertEquals(DriverStatus.State.UNSUPPORTED, status.state());
            assertTrue(status.reason().startsWith("overlay cannot mount on overlay at "), status.reason());
            IOException refused = assertThrows(IOException.class, () -> nested.create("base", null));
            assertTrue(refused.getMessage().contains("UNSUPPORTED"), refused.getMessage());
            assertEquals(List.of(), new ArrayList<>(MountTable.read().below(outer.resolve("merged").toRealPath())),
                    "the probe leaves no mount");
        } finally {
            Commands.check(List.of("umount", outer.resolve("merged").toString()), null, OverlayStorageDriver.COMMAND_TIMEOUT);
        }
    }

    // --- helpers -------------------------------------------------------------------------------

    private void write(String id, String path, String content) throws IOException {
        Path view = driver.get(id);
        try {
            Path file = view.resolve(path);
            Files.createDirectories(file.getParent());
            Files.writeString(file, content);
        } finally {
            driver.put(id);
        }
    }

    private static boolean isMounted(Path dir) throws IOException {
        return MountTable.read().isMountPoint(dir);
    }

    private static String mountOptions(Path mountPoint) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
            String[] fields = line.split(" ");
            if (Path.of(io.berth.storage.support.OctalEscapes.decodeUtf8(fields[4])).equals(mountPoint)) {
                return fields[fields.length - 1];
            }
        }
        throw new AssertionError(mountPoint + " is not mounted");
    }

    private static Map<String, TarArchiveEntry> entries(InputStream diff) throws IOException {
        Map<String, TarArchiveEntry> entries = new LinkedHashMap<>();
        ByteArrayOutputStream ignored = new ByteArrayOutputStream();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(diff)) {
            for (TarArchiveEntry entry = tar.getNextEntry(); entry != null; entry = tar.getNextEntry()) {
                String name = entry.getName().replaceFirst("^\\./", "").replaceFirst("/$", "");
                entries.put(name, entry);
                tar.transferTo(ignored);
            }
        }
        return entries;
    }
}
