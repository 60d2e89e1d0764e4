package io.berth.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.spi.idmap.IdMap;
import io.berth.spi.images.Layer;
import io.berth.spi.storage.StorageDriver;
import io.berth.storage.vfs.VfsStorageDriver;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The layer store with two real vfs drivers (named vfs and vfs2) standing in for any two drivers. */
class FileLayerStoreTest {

    @TempDir
    Path temp;

    private final Map<String, StorageDriver> drivers = new TreeMap<>();
    private FileLayerStore store;

    @BeforeEach
    void setUp() throws IOException {
        drivers.put("vfs", new VfsStorageDriver(temp.resolve("vfs")));
        drivers.put("vfs2", new VfsStorageDriver(temp.resolve("vfs2")));
        store = new FileLayerStore(temp.resolve("layers"), driversOf(drivers), () -> Optional.of("vfs"));
    }

    /** The drivers of the map, by name, as the running ones. */
    static StorageDrivers driversOf(Map<String, StorageDriver> drivers) {
        return new StorageDrivers() {
            @Override
            public StorageDriver byName(String name) {
                return drivers.get(name);
            }

            @Override
            public Set<String> activeNames() {
                return drivers.keySet();
            }
        };
    }

    @Test
    void aLayerIsKeyedByItsChainIdAndUnpackedInTheCurrentDriver() throws Exception {
        byte[] baseTar = tar(Map.of("etc/hello", "hello"));
        Layer base = store.register(new ByteArrayInputStream(baseTar), null);
        assertEquals("sha256:" + sha256(baseTar), base.diffId());
        assertEquals(base.diffId(), base.chainId(), "a base layer's chain id is its diff id");
        assertEquals("vfs", base.driver());

        byte[] childTar = tar(Map.of("etc/child", "child"));
        Layer child = store.register(new ByteArrayInputStream(childTar), base.chainId());
        assertEquals("sha256:" + sha256(base.chainId() + " " + child.diffId()), child.chainId());
        assertEquals(base.chainId(), child.parent());
        assertEquals(2, store.get(base.chainId()).references(), "the child holds a reference on its parent");
        assertEquals(2, store.layers().size());
        assertEquals(base.chainId(), store.layers().get(0).chainId(), "parents first");
    }

    @Test
    void registeringTheSameLayerAgainTakesAReferenceAndUnpacksNothing() throws Exception {
        byte[] baseTar = tar(Map.of("a", "a"));
        Layer first = store.register(new ByteArrayInputStream(baseTar), null);
        Layer second = store.register(new ByteArrayInputStream(baseTar), null);
        assertEquals(first.chainId(), second.chainId());
        assertEquals(2, second.references());
        try (var dirs = Files.list(temp.resolve("vfs/dir"))) {
            assertEquals(1, dirs.count(), "one copy in the driver");
        }
    }

    @Test
    void aLayerGoesAwayOnlyWhenUnreferenced() throws Exception {
        Layer base = store.register(new ByteArrayInputStream(tar(Map.of("a", "a"))), null);
        Layer child = store.register(new ByteArrayInputStream(tar(Map.of("b", "b"))), base.chainId());
        store.release(base.chainId()); // the image's reference; the child still holds one
        assertEquals(1, store.get(base.chainId()).references());
        store.release(child.chainId()); // removes the child, and with it its reference on the parent
        assertNull(store.get(child.chainId()));
        assertNull(store.get(base.chainId()));
        try (var dirs = Files.list(temp.resolve("vfs/dir"))) {
            assertEquals(0, dirs.count(), "the driver holds nothing any more");
        }
    }

    @Test
    void aHostileLayerIsRefusedAndLeavesNothingBehind() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            TarArchiveEntry entry = new TarArchiveEntry("../../escape", true);
            entry.setSize(1);
            tar.putArchiveEntry(entry);
            tar.write('x');
            tar.closeArchiveEntry();
        }
        assertThrows(IOException.class, () -> store.register(new ByteArrayInputStream(bytes.toByteArray()), null));
        assertTrue(store.layers().isEmpty());
        try (var dirs = Files.list(temp.resolve("vfs/dir"))) {
            assertEquals(0, dirs.count());
        }
        assertFalse(Files.exists(temp.resolve("escape")));
    }

    @Test
    void switchingDriversSendsNewChainsThereAndMigrationMovesTheRest() throws Exception {
        Layer base = store.register(new ByteArrayInputStream(tar(Map.of("etc/base", "base"))), null);
        Layer child = store.register(new ByteArrayInputStream(tar(Map.of("etc/child", "child"))), base.chainId());

        store.useDriver("vfs2");
        assertEquals("vfs2", store.currentDriver());
        Layer other = store.register(new ByteArrayInputStream(tar(Map.of("x", "x"))), null);
        assertEquals("vfs2", other.driver());
        Layer grandchild = store.register(new ByteArrayInputStream(tar(Map.of("etc/gc", "gc"))), child.chainId());
        assertEquals("vfs", grandchild.driver(), "a chain stays in the driver of its parent until migrated");

        assertEquals(3, store.migrate("vfs2"));
        for (Layer layer : store.layers()) {
            assertEquals("vfs2", layer.driver(), layer.chainId());
        }
        try (var dirs = Files.list(temp.resolve("vfs/dir"))) {
            assertEquals(0, dirs.count(), "the old copies are gone");
        }
        // The moved chain still shows every layer's files in the new driver.
        StorageDriver vfs2 = drivers.get("vfs2");
        String top = cacheIdOf(grandchild.chainId());
        Path view = vfs2.get(top);
        try {
            assertEquals("base", Files.readString(view.resolve("etc/base")));
            assertEquals("child", Files.readString(view.resolve("etc/child")));
            assertEquals("gc", Files.readString(view.resolve("etc/gc")));
        } finally {
            vfs2.put(top);
        }
    }

    private String cacheIdOf(String chainId) throws IOException {
        String json = Files.readString(temp.resolve("layers").resolve(chainId.substring(7)).resolve("layer.json"));
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(json).get("cacheId").asText();
    }

    @Test
    void aContainersReadWriteLayerSitsOnItsImageAndHoldsItsParent() throws Exception {
        Layer base = store.register(new ByteArrayInputStream(tar(Map.of("etc/hello", "hello"))), null);
        String container = "c".repeat(64);
        assertEquals("vfs", store.createReadWrite(container, base.chainId()));
        assertEquals(2, store.get(base.chainId()).references(), "the read-write layer holds its parent");
        assertThrows(IllegalStateException.class, () -> store.createReadWrite(container, base.chainId()));

        Path rootfs = store.mountReadWrite(container);
        assertEquals("hello", Files.readString(rootfs.resolve("etc/hello")), "the image's content is there");
        Files.writeString(rootfs.resolve("etc/new"), "new");
        Files.delete(rootfs.resolve("etc/hello"));
        store.unmountReadWrite(container);
        Set<String> changes = new java.util.TreeSet<>();
        store.changes(container).forEach(c -> changes.add(c.kind() + " " + c.path()));
        assertEquals(Set.of("ADDED /etc/new", "DELETED /etc/hello"), changes);
        try (var diff = store.diff(container)) {
            assertTrue(diff.readAllBytes().length > 0);
        }

        assertEquals(0, store.migrate("vfs2"), "a layer under a container stays where the container is");
        store.removeReadWrite(container);
        assertEquals(1, store.get(base.chainId()).references(), "removing it releases the parent");
        assertThrows(java.util.NoSuchElementException.class, () -> store.mountReadWrite(container));
        assertThrows(IllegalArgumentException.class, () -> store.createReadWrite("../x", null));
    }

    @Test
    void containersInAUserNamespaceShareOneShiftedCopyOfTheirImageAndDiffInTheirOwnIds() throws Exception {
        IdMap other = new IdMap(List.of(new IdMap.Range(0, 300000, 65536)), List.of(new IdMap.Range(0, 300000, 65536)));
        IdMap map = new IdMap(List.of(new IdMap.Range(0, 100000, 65536)), List.of(new IdMap.Range(0, 100000, 65536)));
        Layer base = store.register(new ByteArrayInputStream(tar(Map.of("etc/hello", "hello"))), null);
        String first = "a".repeat(64);
        String second = "b".repeat(64);
        store.createReadWrite(first, base.chainId(), map);
        store.createReadWrite(second, base.chainId(), map);

        Path rootfs = store.mountReadWrite(first);
        try {
            assertEquals(100000, Files.getAttribute(rootfs.resolve("etc/hello"), "unix:uid"), "shifted owner");
            assertEquals(100000, Files.getAttribute(rootfs.resolve("etc"), "unix:gid"));
            Path added = Files.writeString(rootfs.resolve("new"), "n");
            Files.setAttribute(added, "unix:uid", 101000);
            Files.setAttribute(added, "unix:gid", 100050);
        } finally {
            store.unmountReadWrite(first);
        }
        assertEquals(3, store.get(base.chainId()).references(), "each container holds the image layer");
        assertEquals(1, remappedCopies(), "one copy for both containers");

        ByteArrayOutputStream diff = new ByteArrayOutputStream();
        try (InputStream in = store.diff(first)) {
            in.transferTo(diff);
        }
        Map<String, long[]> owners = owners(diff.toByteArray());
        assertEquals(Set.of("new"), owners.keySet(), "the shift itself is not a change of the container");
        assertEquals(List.of(1000L, 50L), List.of(owners.get("new")[0], owners.get("new")[1]));

        store.createReadWrite("e".repeat(64), base.chainId(), other);
        assertEquals(2, remappedCopies(), "one copy per map");
        store.removeReadWrite("e".repeat(64));
        store.removeReadWrite(first);
        store.removeReadWrite(second);
        assertEquals(2, remappedCopies(), "the copies stay for the next containers, as long as the image");
        assertEquals(1, store.get(base.chainId()).references());
        store.release(base.chainId());
        assertNull(store.get(base.chainId()));
        assertEquals(0, remappedCopies(), "the image's layer took its copy along");
        assertEquals(0, Files.list(temp.resolve("vfs/dir")).filter(p -> !p.getFileName().toString().startsWith("."))
                .count(), "nothing left in the driver");
    }

    @Test
    void anImageWithOwnersOutsideTheMapIsRefusedAndLeavesNoCopy() throws Exception {
        IdMap small = new IdMap(List.of(new IdMap.Range(0, 100000, 10)), List.of(new IdMap.Range(0, 100000, 10)));
        Layer base = store.register(new ByteArrayInputStream(tar(Map.of("etc/hello", "hello"))), null);
        String container = "c".repeat(64);
        Layer foreign = store.register(new ByteArrayInputStream(tarOwnedBy(1000)), base.chainId());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> store.createReadWrite(container, foreign.chainId(), small));

        assertTrue(e.getMessage().contains("container uid 1000 cannot be mapped"), e.getMessage());
        assertEquals(0, remappedCopies());
        assertEquals(1, store.get(foreign.chainId()).references(), "no reference kept");
        assertThrows(java.util.NoSuchElementException.class, () -> store.mountReadWrite(container));

        store.createReadWrite(container, null, small);
        Path empty = store.mountReadWrite(container);
        assertEquals(100000, Files.getAttribute(empty, "unix:uid"), "an empty root belongs to the container's root");
        store.unmountReadWrite(container);
        store.removeReadWrite(container);
    }

    private long remappedCopies() throws IOException {
        try (var files = Files.list(temp.resolve("layers/remapped"))) {
            return files.count();
        }
    }

    private static byte[] tarOwnedBy(int uid) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            TarArchiveEntry entry = new TarArchiveEntry("home/user-file");
            entry.setSize(1);
            entry.setUserId(uid);
            entry.setGroupId(uid);
            tar.putArchiveEntry(entry);
            tar.write('u');
            tar.closeArchiveEntry();
        }
        return bytes.toByteArray();
    }

    private static Map<String, long[]> owners(byte[] tar) throws IOException {
        Map<String, long[]> owners = new TreeMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            TarArchiveEntry entry;
            while ((entry = in.getNextEntry()) != null) {
                owners.put(entry.getName(), new long[] {entry.getLongUserId(), entry.getLongGroupId()});
            }
        }
        return owners;
    }

    @Test
    void readWriteLayerWithoutImageIsEmpty() throws Exception {
        String container = "d".repeat(64);
        store.createReadWrite(container, null);
        try (var entries = Files.list(store.mountReadWrite(container))) {
            assertEquals(0, entries.count());
        }
        store.unmountReadWrite(container);
        store.removeReadWrite(container);
    }

    static byte[] tar(Map<String, String> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            for (Map.Entry<String, String> file : new TreeMap<>(files).entrySet()) {
                byte[] content = file.getValue().getBytes(StandardCharsets.UTF_8);
                TarArchiveEntry entry = new TarArchiveEntry(file.getKey());
                entry.setSize(content.length);
                entry.setMode(0100644);
                tar.putArchiveEntry(entry);
                tar.write(content);
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private static String sha256(String text) throws Exception {
        return sha256(text.getBytes(StandardCharsets.UTF_8));
    }
}
