package io.berth.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.spi.images.Image;
import io.berth.spi.images.Layer;
import io.berth.spi.storage.StorageDriver;
import io.berth.storage.vfs.VfsStorageDriver;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
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
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the stores do when they start on a data-root where a pull or load was killed half way (PullCrashIT
 * does it with a real berthd): the states such a kill leaves are made by hand here, then the stores reopen.
 */
class CrashRecoveryTest {

    @TempDir
    Path temp;

    private StorageDriver vfs;
    private final StorageDrivers drivers = new StorageDrivers() {
        @Override
        public StorageDriver byName(String name) {
            return name.equals("vfs") ? vfs : null;
        }

        @Override
        public Set<String> activeNames() {
            return Set.of("vfs");
        }
    };

    @BeforeEach
    void setUp() throws IOException {
        vfs = new VfsStorageDriver(temp.resolve("vfs"));
    }

    private FileLayerStore layerStore() throws IOException {
        return new FileLayerStore(temp.resolve("layers"), drivers, () -> Optional.of("vfs"));
    }

    @Test
    void aLayerKilledWhileUnpackingIsRemovedFromItsDriverAtStart() throws Exception {
        FileLayerStore layers = layerStore();
        Layer kept = layers.register(new ByteArrayInputStream(tar("kept", "kept")), null);
        String keptCacheId = cacheId(kept);
        // Killed after layer.json was written but before the note went: the layer stays.
        Files.writeString(temp.resolve("layers/.unfinished-" + keptCacheId), "vfs");
        // Killed while unpacking: a copy in the driver that no layer.json names.
        String half = "ab".repeat(32);
        vfs.create(half, null);
        Files.writeString(vfs.get(half).resolve("half-written"), "x");
        vfs.put(half);
        Files.writeString(temp.resolve("layers/.unfinished-" + half), "vfs");

        FileLayerStore reopened = layerStore();
        assertFalse(vfs.exists(half), "the half-unpacked copy is removed");
        assertTrue(vfs.exists(keptCacheId), "a recorded layer keeps its copy");
        assertEquals(List.of(kept), reopened.layers());
        try (var files = Files.list(temp.resolve("layers"))) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith(".unfinished-")));
        }
    }

    @Test
    void layersAndBlobsNoImageHoldsAreDroppedAtStartAndImagesKeepTheirs() throws Exception {
        FileContentStore content = new FileContentStore(temp.resolve("content"));
        FileLayerStore layers = layerStore();
        FileImageStore images = new FileImageStore(temp.resolve("store"), content, layers);
        byte[] base = tar("bin/sh", "shell");
        images.load(new ByteArrayInputStream(dockerArchive(base)));
        Image image = images.list().get(0);
        List<String> blobs = content.list();

        // A pull killed after it registered two layers on top of the image's (and before its record), and
        // after it downloaded a blob.
        Layer middle = layers.register(new ByteArrayInputStream(tar("middle", "m")), image.layers().get(0));
        layers.register(new ByteArrayInputStream(tar("top", "t")), middle.chainId());
        String orphan = content.write(new ByteArrayInputStream("downloaded".getBytes(StandardCharsets.UTF_8)),
                null, -1);
        assertEquals(2, layers.get(image.layers().get(0)).references());

        FileImageStore reopened = new FileImageStore(temp.resolve("store"), content, layers);
        assertEquals(List.of(image), reopened.list());
        assertNull(layers.get(middle.chainId()));
        assertEquals(1, layers.layers().size());
        assertEquals(1, layers.get(image.layers().get(0)).references(), "the image's layer is held once, by it");
        assertFalse(content.exists(orphan));
        assertEquals(blobs, content.list());
        try (var dirs = Files.list(temp.resolve("vfs/dir"))) {
            assertEquals(1, dirs.count(), "only the image's layer is unpacked");
        }
    }

    @Test
    void theReferencesContainersHoldSurviveARestart() throws Exception {
        FileContentStore content = new FileContentStore(temp.resolve("content"));
        FileLayerStore layers = layerStore();
        FileImageStore images = new FileImageStore(temp.resolve("store"), content, layers);
        images.load(new ByteArrayInputStream(dockerArchive(tar("bin/sh", "shell"))));
        String top = images.list().get(0).layers().get(0);
        layers.createReadWrite("c".repeat(64), top);
        layers.createReadWrite("d".repeat(64), top);

        new FileImageStore(temp.resolve("store"), content, layers);

        assertEquals(3, layers.get(top).references(), "the image's and the two containers'");
        layers.removeReadWrite("c".repeat(64));
        layers.removeReadWrite("d".repeat(64));
        assertEquals(1, layers.get(top).references(), "the image still has its layer");
    }

    private String cacheId(Layer layer) throws IOException {
        Path file = temp.resolve("layers").resolve(layer.chainId().substring(7)).resolve("layer.json");
        return new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(Files.readAllBytes(file)).path("cacheId").asText();
    }

    private static byte[] tar(String name, String text) throws IOException {
        return tar(Map.of(name, text.getBytes(StandardCharsets.UTF_8)));
    }

    private static byte[] tar(Map<String, byte[]> members) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> member : new TreeMap<>(members).entrySet()) {
                TarArchiveEntry entry = new TarArchiveEntry(member.getKey());
                entry.setSize(member.getValue().length);
                entry.setMode(0100644);
                tar.putArchiveEntry(entry);
                tar.write(member.getValue());
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    /** A docker save archive of one image with one layer, tagged crash:1. */
    private static byte[] dockerArchive(byte[] layer) throws IOException {
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2026-01-01T00:00:00Z\","
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" + sha256(layer) + "\"]}}")
                .getBytes(StandardCharsets.UTF_8);
        byte[] manifest = ("[{\"Config\":\"config.json\",\"RepoTags\":[\"crash:1\"],\"Layers\":[\"layer.tar\"]}]")
                .getBytes(StandardCharsets.UTF_8);
        return tar(Map.of("config.json", config, "layer.tar", layer, "manifest.json", manifest));
    }

    private static String sha256(byte[] bytes) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IOException(e);
        }
    }
}
