package io.berth.storage.vfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.spi.driver.DriverStatus;
import io.berth.spi.storage.LayerNotFoundException;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VfsStorageDriverTest {

    private static final int S_IFMT = 0170000;
    private static final int S_IFIFO = 0010000;

    @TempDir
    Path dataRoot;

    private Path root;
    private VfsStorageDriver driver;

    @BeforeEach
    void start() throws IOException {
        root = dataRoot.resolve("vfs");
        driver = new VfsStorageDriver(root);
    }

    private static int mode(Path file) throws IOException {
        return (Integer) Files.getAttribute(file, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    }

    private static int owner(Path file, String which) throws IOException {
        return (Integer) Files.getAttribute(file, "unix:" + which, LinkOption.NOFOLLOW_LINKS);
    }

    /** A base layer holding a regular setuid file owned by 1234:5678, a symlink and a fifo. */
    private Path baseLayer() throws Exception {
        driver.create("base", null);
        Path base = driver.get("base");
        Path file = Files.writeString(base.resolve("hello.txt"), "hello");
        Files.setAttribute(file, "unix:uid", 1234);
        Files.setAttribute(file, "unix:gid", 5678);
        Files.setAttribute(file, "unix:mode", 04755); // after chown, which clears the setuid bit
        assertEquals(04755, mode(file) & 07777);
        Files.createSymbolicLink(base.resolve("link"), Path.of("hello.txt"));
        Process mkfifo = new ProcessBuilder("mkfifo", base.resolve("pipe").toString()).inheritIO().start();
        assertEquals(0, mkfifo.waitFor());
        driver.put("base");
        return base;
    }

    @Test
    void childLayerSeesItsParentExactly() throws Exception {
        baseLayer();
        driver.create("child", "base");
        Path child = driver.get("child");

        Path file = child.resolve("hello.txt");
        assertEquals("hello", Files.readString(file));
        assertEquals(04755, mode(file) & 07777);
        assertEquals(1234, owner(file, "uid"));
        assertEquals(5678, owner(file, "gid"));
        assertTrue(Files.isSymbolicLink(child.resolve("link")));
        assertEquals(Path.of("hello.txt"), Files.readSymbolicLink(child.resolve("link")));
        assertEquals(S_IFIFO, mode(child.resolve("pipe")) & S_IFMT);
    }

    @Test
    void writesToChildLeaveParentAlone() throws Exception {
        Path base = baseLayer();
        driver.createReadWrite("container", "base");
        Path child = driver.get("container");

        Files.writeString(child.resolve("hello.txt"), "changed");
        Files.delete(child.resolve("link"));
        Files.writeString(child.resolve("new.txt"), "new");

        assertEquals("hello", Files.readString(base.resolve("hello.txt")));
        assertTrue(Files.isSymbolicLink(base.resolve("link")));
        assertFalse(Files.exists(base.resolve("new.txt")));
    }

    @Test
    void existsOnlyForCreatedLayers() throws Exception {
        assertFalse(driver.exists("base"));
        driver.create("base", null);
        assertTrue(driver.exists("base"));
        assertFalse(driver.exists("../vfs"));
        assertFalse(driver.exists(""));
    }

    @Test
    void unknownParentIsRefused() throws Exception {
        LayerNotFoundException e = assertThrows(LayerNotFoundException.class, () -> driver.create("child", "nope"));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
        assertFalse(driver.exists("child"));
        assertThrows(LayerNotFoundException.class, () -> driver.get("nope"));
    }

    @Test
    void duplicateIdIsRefused() throws Exception {
        driver.create("base", null);
        assertThrows(FileAlreadyExistsException.class, () -> driver.create("base", null));
    }

    @Test
    void invalidIdsAreRefusedWithoutTouchingTheDisk() throws Exception {
        driver.create("base", null);
        for (String id : List.of("../x", "a/b", "", "/abs", ".staging-x")) {
            assertThrows(IllegalArgumentException.class, () -> driver.create(id, null), id);
            assertThrows(IllegalArgumentException.class, () -> driver.create(id, "base"), id);
        }
        try (Stream<Path> outside = Files.list(dataRoot); Stream<Path> inRoot = Files.list(root)) {
            assertEquals(List.of(root), outside.toList());
            assertEquals(java.util.Set.of(root.resolve("dir"), root.resolve("parents")), java.util.Set.copyOf(inRoot.toList()));
        }
        try (Stream<Path> layers = Files.list(root.resolve("dir"))) {
            assertEquals(List.of(root.resolve("dir/base")), layers.toList());
        }
    }

    @Test
    void layerInUseCannotBeRemovedUntilReleased() throws Exception {
        driver.create("base", null);
        Path dir = driver.get("base");
        driver.get("base");

        assertThrows(IOException.class, () -> driver.remove("base"));
        driver.put("base");
        assertThrows(IOException.class, () -> driver.remove("base"));
        driver.put("base");
        driver.remove("base");

        assertFalse(Files.exists(dir));
        assertFalse(driver.exists("base"));
        assertThrows(LayerNotFoundException.class, () -> driver.remove("base"));
    }

    @Test
    void removalInterruptedByACrashDoesNotBlockTheNextOne() throws Exception {
        // what a kill -9 in the middle of remove("base") leaves behind
        Path leftover = Files.createDirectories(root.resolve("dir/.removing-base/etc"));
        Files.writeString(leftover.resolve("passwd"), "root:x:0:0::/root:/bin/sh\n");

        driver.create("base", null);
        driver.remove("base");

        assertFalse(driver.exists("base"));
        try (Stream<Path> layers = Files.list(root.resolve("dir"))) {
            assertEquals(List.of(), layers.toList());
        }
    }

    @Test
    void usageCountsTheLayersBytes() throws Exception {
        driver.create("base", null);
        Path dir = driver.get("base");
        assertEquals(0, driver.usage("base"));
        Files.write(dir.resolve("a"), new byte[1000]);
        Files.createDirectory(dir.resolve("sub"));
        Files.write(dir.resolve("sub/b"), new byte[234]);
        assertEquals(1234, driver.usage("base"));
    }

    @Test
    void statusIsActiveWithTheBackingFilesystem() throws Exception {
        DriverStatus status = driver.status();
        assertEquals(DriverStatus.State.ACTIVE, status.state());
        assertEquals(Files.getFileStore(dataRoot).type(), status.details().get("Backing Filesystem"));
        assertEquals(root.toString(), status.details().get("Root"));
    }
}
