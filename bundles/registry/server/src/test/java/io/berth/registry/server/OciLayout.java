package io.berth.registry.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Writes an OCI image layout directory (what {@code skopeo copy oci:DIR:TAG}
 * reads) holding one linux/amd64 image whose layers are tars made here, so
 * the tests need no image from anywhere. Layers are gzipped tars.
 */
final class OciLayout {

    static final String MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private OciLayout() {
    }

    /**
     * Writes the layout with one layer per entry of {@code layers} (each a map
     * of file name to content) and returns the image manifest's digest.
     */
    static String write(Path dir, String tag, Map<String, byte[]>... layers) throws IOException {
        Files.createDirectories(dir.resolve("blobs/sha256"));
        Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        ObjectNode config = JSON.createObjectNode().put("architecture", "amd64").put("os", "linux");
        config.putObject("config").putArray("Cmd").add("/bin/sh");
        ObjectNode rootfs = config.putObject("rootfs").put("type", "layers");
        ArrayNode diffIds = rootfs.putArray("diff_ids");
        ObjectNode manifest = JSON.createObjectNode().put("schemaVersion", 2).put("mediaType", MANIFEST);
        ArrayNode layerDescriptors = manifest.putArray("layers");
        for (Map<String, byte[]> files : layers) {
            byte[] tar = tar(files);
            diffIds.add(RegistryStorage.sha256(tar));
            // gzip, as images usually are: skopeo would compress plain tars on push, changing the digests
            layerDescriptors.add(blob(dir, "application/vnd.oci.image.layer.v1.tar+gzip", gzip(tar)));
        }
        manifest.set("config", blob(dir, "application/vnd.oci.image.config.v1+json", JSON.writeValueAsBytes(config)));
        ObjectNode manifestDescriptor = blob(dir, MANIFEST, JSON.writeValueAsBytes(manifest));
        manifestDescriptor.putObject("annotations").put("org.opencontainers.image.ref.name", tag);
        ObjectNode index = JSON.createObjectNode().put("schemaVersion", 2);
        index.putArray("manifests").add(manifestDescriptor);
        Files.write(dir.resolve("index.json"), JSON.writeValueAsBytes(index));
        return manifestDescriptor.get("digest").asText();
    }

    /** Random bytes, so that every test pushes layers of its own. */
    static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static ObjectNode blob(Path dir, String mediaType, byte[] content) throws IOException {
        String digest = RegistryStorage.sha256(content);
        Files.write(dir.resolve("blobs/sha256").resolve(digest.substring("sha256:".length())), content);
        return JSON.createObjectNode().put("mediaType", mediaType).put("digest", digest).put("size", content.length);
    }

    private static byte[] tar(Map<String, byte[]> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Map.Entry<String, byte[]> file : files.entrySet()) {
                TarArchiveEntry entry = new TarArchiveEntry(file.getKey());
                entry.setSize(file.getValue().length);
                entry.setMode(0644);
                entry.setModTime(0);
                tar.putArchiveEntry(entry);
                tar.write(file.getValue());
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    private static byte[] gzip(byte[] content) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(bytes)) {
            gzip.write(content);
        }
        return bytes.toByteArray();
    }

    static String manifestDigestOf(Path dir) throws IOException {
        return JSON.readTree(Files.readAllBytes(dir.resolve("index.json"))).path("manifests").path(0).path("digest").asText();
    }
}
