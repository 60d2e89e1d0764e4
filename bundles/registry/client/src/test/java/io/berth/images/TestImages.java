package io.berth.images;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.registry.client.HttpRegistryClient;
import io.berth.spi.images.Image;
import io.berth.spi.images.Layer;
import io.berth.spi.storage.StorageDriver;
import io.berth.storage.overlay.OverlayStorageDriver;
import io.berth.storage.vfs.VfsStorageDriver;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * One engine's worth of real stores (content, layers on vfs, images) with its own registry client, and the
 * tars, configs and docker archives the pull and push tests build their images from.
 */
final class TestImages {

    static final ObjectMapper JSON = new ObjectMapper();

    private TestImages() {
    }

    /** The stores of one engine under one directory. */
    record Stores(FileContentStore content, FileLayerStore layers, FileImageStore images, HttpRegistryClient client) {
    }

    /** What a test compares before and after a refused pull: nothing may have changed. */
    record Snapshot(List<Image> images, List<Layer> layers, List<String> blobs) {
        static final Snapshot EMPTY = new Snapshot(List.of(), List.of(), List.of());
    }

    static Stores stores(Path dir) throws IOException {
        return stores(dir, HttpRegistryClient.Settings.defaults());
    }

    static Stores stores(Path dir, HttpRegistryClient.Settings settings) throws IOException {
        return stores(dir, settings, "vfs", new VfsStorageDriver(dir.resolve("vfs")));
    }

    /** Stores whose layers are in the overlay driver (under {@code dir/overlay2}), which unpacks layers out of order. */
    static Stores overlayStores(Path dir) throws IOException {
        return stores(dir, HttpRegistryClient.Settings.defaults(), "overlay2",
                new OverlayStorageDriver(dir.resolve("overlay2")));
    }

    private static Stores stores(Path dir, HttpRegistryClient.Settings settings, String driverName,
                                 StorageDriver driver) throws IOException {
        FileContentStore content = new FileContentStore(dir.resolve("content"));
        FileLayerStore layers = new FileLayerStore(dir.resolve("layers"), new StorageDrivers() {
            @Override
            public StorageDriver byName(String name) {
                return name.equals(driverName) ? driver : null;
            }

            @Override
            public Set<String> activeNames() {
                return Set.of(driverName);
            }
        }, () -> Optional.of(driverName));
        HttpRegistryClient client = new HttpRegistryClient(content, settings);
        return new Stores(content, layers, new FileImageStore(dir.resolve("store"), content, layers, () -> client),
                client);
    }

    static Snapshot snapshot(Stores s) throws IOException {
        return new Snapshot(s.images().list(), s.layers().layers(), s.content().list());
    }

    /** Loads a docker archive of these layer tars (bottom first) tagged {@code tag}; returns the image id. */
    static String load(Stores s, String tag, List<byte[]> layers) throws IOException {
        byte[] config = config(layers.toArray(byte[][]::new));
        s.images().load(new ByteArrayInputStream(dockerArchive(config, layers, tag)));
        return "sha256:" + sha256(config);
    }

    /** An image config whose rootfs.diff_ids are those of {@code layers}. */
    static byte[] config(byte[]... layers) throws IOException {
        ObjectNode config = JSON.createObjectNode();
        config.put("architecture", "amd64");
        config.put("os", "linux");
        config.put("created", "2024-05-01T10:00:00Z");
        ObjectNode rootfs = config.putObject("rootfs");
        rootfs.put("type", "layers");
        ArrayNode diffIds = rootfs.putArray("diff_ids");
        for (byte[] layer : layers) {
            diffIds.add("sha256:" + sha256(layer));
        }
        return JSON.writeValueAsBytes(config);
    }

    /** A docker save archive (Docker 25+ layout: everything under blobs/sha256/). */
    static byte[] dockerArchive(byte[] config, List<byte[]> layers, String tag) throws IOException {
        Map<String, Object> members = new TreeMap<>();
        ArrayNode manifest = JSON.createArrayNode();
        ObjectNode item = manifest.addObject();
        members.put("blobs/sha256/" + sha256(config), config);
        item.put("Config", "blobs/sha256/" + sha256(config));
        item.putArray("RepoTags").add(tag);
        ArrayNode paths = item.putArray("Layers");
        for (byte[] layer : layers) {
            members.put("blobs/sha256/" + sha256(layer), layer);
            paths.add("blobs/sha256/" + sha256(layer));
        }
        members.put("manifest.json", JSON.writeValueAsBytes(manifest));
        return tar(members);
    }

    /** A tar of the given files (String or byte[] content), in name order. */
    static byte[] tar(Map<String, ?> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            for (Map.Entry<String, ?> file : new TreeMap<>(files).entrySet()) {
                byte[] content = file.getValue() instanceof byte[] b ? b
                        : ((String) file.getValue()).getBytes(StandardCharsets.UTF_8);
                TarArchiveEntry entry = new TarArchiveEntry(file.getKey(), true);
                entry.setSize(content.length);
                entry.setMode(0100644);
                tar.putArchiveEntry(entry);
                tar.write(content);
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    /** A tar of one file of {@code size} random bytes (so every layer is distinct and incompressible). */
    static byte[] randomLayer(Random random, String name, int size) throws IOException {
        byte[] content = new byte[size];
        random.nextBytes(content);
        return tar(Map.of(name, content));
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(bytes)) {
            gzip.write(data);
        }
        return bytes.toByteArray();
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
