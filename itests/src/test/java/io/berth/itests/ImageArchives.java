package io.berth.itests;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/** Builds small {@code docker save} archives for tests: one layer of the given files, one tag. */
final class ImageArchives {

    private ImageArchives() {
    }

    static void dockerArchive(Path target, String repoTag, Map<String, String> files) throws IOException {
        byte[] layer = tar(files);
        String diffId = "sha256:" + sha256(layer);
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2026-11-22T00:00:00Z\","
                + "\"config\":{\"Cmd\":[\"/bin/sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + diffId + "\"]}}")
                .getBytes(StandardCharsets.UTF_8);
        String configName = sha256(config) + ".json";
        String layerName = diffId.substring(7) + "/layer.tar";
        byte[] manifest = ("[{\"Config\":\"" + configName + "\",\"RepoTags\":[\"" + repoTag + "\"],\"Layers\":[\""
                + layerName + "\"]}]").getBytes(StandardCharsets.UTF_8);
        try (OutputStream out = Files.newOutputStream(target);
             TarArchiveOutputStream archive = new TarArchiveOutputStream(out)) {
            put(archive, configName, config);
            put(archive, layerName, layer);
            put(archive, "manifest.json", manifest);
        }
    }

    private static byte[] tar(Map<String, String> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            for (Map.Entry<String, String> file : new java.util.TreeMap<>(files).entrySet()) {
                put(tar, file.getKey(), file.getValue().getBytes(StandardCharsets.UTF_8));
            }
        }
        return bytes.toByteArray();
    }

    private static void put(TarArchiveOutputStream tar, String name, byte[] content) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name);
        entry.setSize(content.length);
        entry.setMode(0100644);
        tar.putArchiveEntry(entry);
        tar.write(content);
        tar.closeArchiveEntry();
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
