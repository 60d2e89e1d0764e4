package io.berth.storage.btrfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.spi.driver.DriverStatus;
import io.berth.spi.storage.LayerNotFoundException;
import io.berth.spi.storage.StorageCapability;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The btrfs driver on a real btrfs filesystem (a loop device made for this class). */
class BtrfsStorageDriverTest {

    @RegisterExtension
    static final LoopBtrfs BTRFS = new LoopBtrfs();

    private Path dataRoot;
    private Path root;
    private BtrfsStorageDriver driver;

    @BeforeEach
    void start() throws IOException {
        dataRoot = BTRFS.newDirectory("data-root");
        root = dataRoot.resolve("btrfs");
        driver = new BtrfsStorageDriver(root);
    }

    private static long inode(Path path) throws IOException {
        return ((Number) Files.getAttribute(path, "unix:ino", LinkOption.NOFOLLOW_LINKS)).longValue();
    }

    private static int mode(Path file) throws IOException {
        return (Integer) Files.getAttribute(file, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    }

    private void write(String id, String file, String content) throws IOException {
        Path dir = driver.get(id);
        try {
            Path target = dir.resolve(file);
            Files.createDirectories(target.getParent());
            Files.writeString(target, content);
        } finally {
            driver.put(id);
        }
    }

    /** The subvolumes below this test's data-root, as paths relative to the filesystem's top. */
    private List<String> listSubvolumes() throws IOException {
        // the list shows committed transactions only
        LoopBtrfs.run("btrfs", "filesystem", "sync", BTRFS.mountPoint().toString());
        String prefix = " path " + dataRoot.getFileName() + "/";
        return LoopBtrfs.run("btrfs", "subvolume", "list", BTRFS.mountPoint().toString()).lines()
                .filter(line -> line.contains(prefix))
                .map(line -> line.substring(line.indexOf(prefix) + prefix.length()))
                .toList();
    }

    @Test
    void statusIsActiveOnBtrfsWithTheBuildVersion() {
        DriverStatus status = driver.status();
        assertEquals(DriverStatus.State.ACTIVE, status.state(), status.reason());
        assertEquals("btrfs", status.details().get("Backing Filesystem"));
        assertTrue(status.details().get("Build Version").startsWith("btrfs-progs v"), status.details().toString());
        assertEquals(root.toString(), status.details().get("Root"));
        // The tests run as root. Not INDEPENDENT_DIFFS: a child is a snapshot of its parent as it is at create time.
        assertEquals(EnumSet.of(StorageCapability.PRIVILEGED_XATTRS, StorageCapability.DEVICE_NODES,
                StorageCapability.COPY_ON_WRITE), driver.capabilities());
    }

    @Test
    void aBaseLayerIsANewSubvolume() throws Exception {
        driver.create("base", null);
        assertTrue(driver.exists("base"));
        assertNull(driver.parent("base"));
        Path dir = driver.get("base");
        try {
            assertEquals(root.resolve("subvolumes/base"), dir);
            assertEquals(256, inode(dir), "a subvolume's root directory has inode 256");
            try (Stream<Path> entries = Files.list(dir)) {
                assertEquals(List.of(), entries.toList());
            }
        } finally {
            driver.put("base");
        }
        assertThrows(FileAlreadyExistsException.class, () -> driver.create("base", null));
    }

    @Test
    void aChildIsASnapshotThatSeesItsParentsFiles() throws Exception {
        driver.create("base", null);
        Path base = driver.get("base");
        Path file = Files.writeString(base.resolve("hello.txt"), "hello");
        Files.setAttribute(file, "unix:uid", 1234);
        Files.setAttribute(file, "unix:gid", 5678);
        Files.setAttribute(file, "unix:mode", 04750);
        Files.createSymbolicLink(base.resolve("link"), Path.of("hello.txt"));
        driver.put("base");

        driver.create("child", "base");
        assertEquals("base", driver.parent("child"));
        Path child = driver.get("child");
        try {
            assertEquals(256, inode(child));
            Path copy = child.resolve("hello.txt");
            assertEquals("hello", Files.readString(copy));
            assertEquals(04750, mode(copy) & 07777);
            assertEquals(1234, Files.getAttribute(copy, "unix:uid"));
            assertEquals(5678, Files.getAttribute(copy, "unix:gid"));
            assertEquals(inode(file), inode(copy), "a snapshot keeps inode numbers");
            assertEquals(Path.of("hello.txt"), Files.readSymbolicLink(child.resolve("link")));
        } finally {
            driver.put("child");
        }
    }

    @Test
    void writesAreCopyOnWriteAndStayInTheirLayer() throws Exception {
        driver.create("base", null);
        write("base", "etc/config", "original");
        write("base", "big", "x".repeat(1 << 20));
        driver.createReadWrite("container", "base");
        Path base = driver.get("base");
        Path container = driver.get("container");
        try {
            Files.writeString(container.resolve("etc/config"), "changed");
            Files.writeString(container.resolve("new"), "new");
            Files.delete(container.resolve("big"));
            Files.writeString(base.resolve("etc/later"), "after the snapshot");

            assertEquals("original", Files.readString(base.resolve("etc/config")));
            assertFalse(Files.exists(base.resolve("new")));
            assertTrue(Files.exists(base.resolve("big")));
            assertEquals("changed", Files.readString(container.resolve("etc/config")));
            assertFalse(Files.exists(container.resolve("etc/later")), "a snapshot does not see later parent writes");
        } finally {
            driver.put("container");
            driver.put("base");
        }
    }

    @Test
    void aChainOf130LayersShowsEveryLayerAndComesApartTopDown() throws Exception {
        String parent = null;
        for (int i = 0; i < 130; i++) {
            String id = "layer" + i;
            driver.create(id, parent);
            write(id, "files/f" + i, Integer.toString(i));
            parent = id;
        }
        assertEquals("layer128", driver.parent("layer129"));
        Path top = driver.get("layer129");
        try {
            for (int i = 0; i < 130; i++) {
                assertEquals(Integer.toString(i), Files.readString(top.resolve("files/f" + i)));
            }
        } finally {
            driver.put("layer129");
        }
        assertThrows(IOException.class, () -> driver.remove("layer64"));
        for (int i = 129; i >= 0; i--) {
            driver.remove("layer" + i);
        }
        try (Stream<Path> left = Files.list(root.resolve("subvolumes"))) {
            assertEquals(List.of(), left.toList());
        }
    }

    @Test
    void referenceCountsSurviveANewDriverInstance() throws Exception {
        driver.create("base", null);
        driver.get("base");
        driver.get("base");
        assertEquals("2", Files.readString(root.resolve("refs/base")).trim());

        // what a bundle update does: the old instance is dropped, a new one reads the disk
        BtrfsStorageDriver updated = new BtrfsStorageDriver(root);
        IOException inUse = assertThrows(IOException.class, () -> updated.remove("base"));
        assertTrue(inUse.getMessage().contains("in use (2 references)"), inUse.getMessage());
        updated.put("base");
        assertThrows(IOException.class, () -> updated.remove("base"));
        updated.put("base");
        assertFalse(Files.exists(root.resolve("refs/base")));
        updated.remove("base");
        assertFalse(driver.exists("base"));
    }

    @Test
    void getAndPutFromManyThreadsKeepAnExactCount() throws Exception {
        driver.create("base", null);
        write("base", "data", "shared");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<String>> reads = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                reads.add(pool.submit(() -> {
                    Path view = driver.get("base");
                    try {
                        return Files.readString(view.resolve("data"));
                    } finally {
                        driver.put("base");
                    }
                }));
            }
            for (Future<String> read : reads) {
                assertEquals("shared", read.get(60, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
        assertFalse(Files.exists(root.resolve("refs/base")));
        driver.remove("base");
    }

    @Test
    void aLayerWithAChildOrInUseCannotBeRemoved() throws Exception {
        driver.create("base", null);
        driver.create("child", "base");
        IOException parentOf = assertThrows(IOException.class, () -> driver.remove("base"));
        assertTrue(parentOf.getMessage().contains("parent of layer child"), parentOf.getMessage());
        assertTrue(driver.exists("base"));

        driver.get("child");
        IOException inUse = assertThrows(IOException.class, () -> driver.remove("child"));
        assertTrue(inUse.getMessage().contains("in use"), inUse.getMessage());
        driver.put("child");
        driver.remove("child");
        driver.remove("base");
        assertFalse(driver.exists("base"));
        assertFalse(driver.exists("child"));
        assertThrows(LayerNotFoundException.class, () -> driver.remove("base"));
        assertThrows(LayerNotFoundException.class, () -> driver.create("orphan", "base"));
        assertFalse(driver.exists("orphan"));
    }

    @Test
    void subvolumesCreatedInsideALayerAreRemovedWithIt() throws Exception {
        driver.create("base", null);
        driver.createReadWrite("container", "base");
        Path view = driver.get("container");
        try {
            Files.createDirectories(view.resolve("var/lib"));
            // what docker-in-docker or systemd-nspawn inside the container would do
            LoopBtrfs.run("btrfs", "subvolume", "create", view.resolve("var/lib/inner").toString());
            Files.writeString(view.resolve("var/lib/inner/data"), "inner");
            LoopBtrfs.run("btrfs", "subvolume", "create", view.resolve("var/lib/inner/deeper").toString());
            Files.writeString(view.resolve("var/lib/inner/deeper/data"), "deeper");
            LoopBtrfs.run("btrfs", "subvolume", "snapshot", "-r", view.resolve("var/lib/inner").toString(),
                    view.resolve("frozen").toString());
        } finally {
            driver.put("container");
        }
        assertEquals(List.of("btrfs/subvolumes/base", "btrfs/subvolumes/container",
                "btrfs/subvolumes/container/var/lib/inner", "btrfs/subvolumes/container/var/lib/inner/deeper",
                "btrfs/subvolumes/container/frozen"), listSubvolumes());

        driver.remove("container");

        assertFalse(driver.exists("container"));
        assertEquals(List.of("btrfs/subvolumes/base"), listSubvolumes());
        driver.remove("base");
        assertEquals(List.of(), listSubvolumes());
    }

    @Test
    void whatACrashLeftBehindDoesNotBlockARetry() throws Exception {
        driver.create("other", null);
        Path subvolumes = root.resolve("subvolumes");
        // a create of "base" killed after the snapshot, before the rename
        LoopBtrfs.run("btrfs", "subvolume", "create", subvolumes.resolve(".staging-base").toString());
        Files.writeString(subvolumes.resolve(".staging-base/half"), "half");
        // a create killed after writing the parent record: it must not block removing "other"
        Files.writeString(root.resolve("parents/ghost"), "other");
        // a remove of "gone" killed after the rename, and a plain leftover directory
        LoopBtrfs.run("btrfs", "subvolume", "create", subvolumes.resolve(".removing-gone").toString());
        Files.createDirectories(subvolumes.resolve(".staging-plain/etc"));

        driver.create("base", null);
        Path base = driver.get("base");
        try (Stream<Path> entries = Files.list(base)) {
            assertEquals(List.of(), entries.toList(), "the retry starts clean");
        } finally {
            driver.put("base");
        }
        driver.remove("other");

        new BtrfsStorageDriver(root); // a new instance sweeps the rest
        try (Stream<Path> left = Files.list(subvolumes)) {
            assertEquals(List.of(subvolumes.resolve("base")), left.toList());
        }
    }

    @Test
    void invalidIdsAreRefusedWithoutTouchingTheDisk() throws Exception {
        driver.create("base", null);
        for (String id : List.of("../x", "a/b", "", "/abs", ".staging-x", "-x", "x".repeat(129))) {
            assertThrows(IllegalArgumentException.class, () -> driver.create(id, null), id);
            assertThrows(IllegalArgumentException.class, () -> driver.create("ok", id), id);
            assertThrows(IllegalArgumentException.class, () -> driver.remove(id), id);
            assertFalse(driver.exists(id));
        }
        assertFalse(driver.exists(null));
        try (Stream<Path> layers = Files.list(root.resolve("subvolumes"))) {
            assertEquals(List.of(root.resolve("subvolumes/base")), layers.toList());
        }
    }

    @Test
    void usageIsWhatTheLayerAddedOrChanged() throws Exception {
        driver.create("base", null);
        write("base", "big", "x".repeat(1 << 20));
        write("base", "small", "y".repeat(100));
        assertEquals((1 << 20) + 100, driver.usage("base"));

        driver.create("child", "base");
        assertEquals(0, driver.usage("child"), "a fresh snapshot adds nothing");
        write("child", "added", "z".repeat(1000));
        write("child", "small", "changed");
        assertEquals(1000 + "changed".length(), driver.usage("child"));
        assertEquals((1 << 20) + 100, driver.usage("base"), "a child does not change its parent's usage");
    }

    @Test
    void aDataRootThatIsNotBtrfsIsUnsupportedAndLeftAlone(@TempDir Path plain) throws Exception {
        String type = Files.getFileStore(plain).type();
        assertFalse("btrfs".equals(type), "the temp dir must not be on btrfs for this test: " + plain);
        BtrfsStorageDriver elsewhere = new BtrfsStorageDriver(plain.resolve("btrfs"));

        DriverStatus status = elsewhere.status();
        assertEquals(DriverStatus.State.UNSUPPORTED, status.state());
        assertEquals("data-root " + plain + " is not on btrfs (it is " + type + ")", status.reason());

        IOException refused = assertThrows(IOException.class, () -> elsewhere.create("base", null));
        assertTrue(refused.getMessage().contains(status.reason()), refused.getMessage());
        assertFalse(elsewhere.exists("base"));
        try (Stream<Path> entries = Files.list(plain)) {
            assertEquals(List.of(), entries.toList(), "an unsupported driver writes nothing");
        }
    }

    @Test
    void withoutBtrfsProgsTheDriverIsUnsupported() throws Exception {
        Path otherRoot = dataRoot.resolve("elsewhere");
        BtrfsStorageDriver withoutProgs = new BtrfsStorageDriver(otherRoot, () -> null);
        DriverStatus status = withoutProgs.status();
        assertEquals(DriverStatus.State.UNSUPPORTED, status.state());
        assertEquals("btrfs-progs is not installed", status.reason());
        assertFalse(Files.exists(otherRoot), "an unsupported driver writes nothing");
        assertEquals(List.of(), listSubvolumes());
    }
}
