package io.berth.images;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.spi.images.Image;
import io.berth.spi.images.ImageUsers;
import io.berth.spi.storage.StorageDriver;
import io.berth.storage.vfs.VfsStorageDriver;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Real image and layer stores (vfs) for the container tests, in this package because the layer store's driver
 * lookup is package-private, and a busybox image built from the host's {@code /bin/busybox} (busybox-static).
 */
public final class BusyboxImages {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> APPLETS = List.of("sh", "echo", "cat", "sleep", "ls", "true", "false",
            "trap", "hostname", "id", "env", "ps", "kill", "touch", "mkdir", "printf", "pwd", "wc", "head", "seq");

    /** The stores of one engine under one directory. */
    public record Stores(FileLayerStore layers, FileImageStore images) {
    }

    private BusyboxImages() {
    }

    public static Stores stores(Path dir, ImageUsers users) throws IOException {
        StorageDriver vfs = new VfsStorageDriver(dir.resolve("vfs"));
        FileContentStore content = new FileContentStore(dir.resolve("content"));
        FileLayerStore layers = new FileLayerStore(dir.resolve("layers"), new StorageDrivers() {
            @Override
            public StorageDriver byName(String driver) {
                return driver.equals("vfs") ? vfs : null;
            }

            @Override
            public Set<String> activeNames() {
                return Set.of("vfs");
            }
        }, () -> Optional.of("vfs"));
        return new Stores(layers, new FileImageStore(dir.resolve("store"), content, layers, () -> null, users));
    }

    /**
     * Loads a one-layer busybox image named {@code tag} whose config's {@code config} object is {@code config}
     * (e.g. {@code {"Cmd":["sh"]}}; PATH is added when it has no Env).
     */
    public static Image load(FileImageStore images, String tag, Map<String, Object> config) throws IOException {
        byte[] layer = busyboxLayer();
        ObjectNode imageConfig = JSON.createObjectNode();
        imageConfig.put("architecture", "amd64");
        imageConfig.put("os", "linux");
        imageConfig.put("created", "2026-01-01T00:00:00Z");
        ObjectNode containerConfig = JSON.valueToTree(config);
        if (!containerConfig.has("Env")) {
            containerConfig.putArray("Env").add("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        }
        imageConfig.set("config", containerConfig);
        ObjectNode rootfs = imageConfig.putObject("rootfs");
        rootfs.put("type", "layers");
        rootfs.putArray("diff_ids").add("sha256:" + sha256(layer));
        byte[] configBytes = JSON.writeValueAsBytes(imageConfig);

        ArrayNode manifest = JSON.createArrayNode();
        ObjectNode item = manifest.addObject();
        item.put("Config", "blobs/sha256/" + sha256(configBytes));
        item.putArray("RepoTags").add(tag);
        item.putArray("Layers").add("blobs/sha256/" + sha256(layer));
        ByteArrayOutputStream archive = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(archive)) {
            file(tar, "blobs/sha256/" + sha256(configBytes), configBytes, 0644);
            file(tar, "blobs/sha256/" + sha256(layer), layer, 0644);
            file(tar, "manifest.json", JSON.writeValueAsBytes(manifest), 0644);
        }
        return images.load(new ByteArrayInputStream(archive.toByteArray())).get(0);
    }

    /** bin/busybox with links for the applets the tests use, /etc/passwd and /etc/group, /tmp. */
    static byte[] busyboxLayer() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (String dir : List.of("bin/", "etc/", "proc/", "sys/", "dev/", "root/")) {
                directory(tar, dir, 0755);
            }
            directory(tar, "tmp/", 01777);
            file(tar, "bin/busybox", Files.readAllBytes(Path.of("/bin/busybox")), 0755);
            for (String applet : APPLETS) {
                TarArchiveEntry link = new TarArchiveEntry("bin/" + applet, TarConstants.LF_SYMLINK);
                link.setLinkName("busybox");
                tar.putArchiveEntry(link);
                tar.closeArchiveEntry();
            }
            file(tar, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
                    .getBytes(StandardCharsets.UTF_8), 0644);
            file(tar, "etc/group", "root:x:0:\nnogroup:x:65534:\n".getBytes(StandardCharsets.UTF_8), 0644);
        }
        return bytes.toByteArray();
    }

    private static void directory(TarArchiveOutputStream tar, String name, int mode) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name);
        entry.setMode(040000 | mode);
        tar.putArchiveEntry(entry);
        tar.closeArchiveEntry();
    }

    private static void file(TarArchiveOutputStream tar, String name, byte[] content, int mode) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name);
        entry.setSize(content.length);
        entry.setMode(0100000 | mode);
        tar.putArchiveEntry(entry);
        tar.write(content);
        tar.closeArchiveEntry();
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
