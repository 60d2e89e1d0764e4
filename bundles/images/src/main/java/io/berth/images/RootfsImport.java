package io.berth.images;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * {@code docker import}: a rootfs tar (plain, gzip, bzip2, xz or zstd, as Docker's DecompressStream takes) made
 * into the layer and config of a one-layer image, as Docker writes them: the message as the config's
 * {@code comment} and as the one history entry's, "Imported from -" when none is given.
 */
final class RootfsImport {

    /** Docker's comment for an import from a stream without a message. */
    static final String DEFAULT_MESSAGE = "Imported from -";
    private static final ObjectMapper JSON = new ObjectMapper();

    private RootfsImport() {
    }

    /**
     * Writes the uncompressed tar to {@code file} and checks it is a whole tar archive.
     *
     * @return its diff id ({@code sha256:} of the uncompressed tar)
     */
    static String spool(InputStream rootfs, Path file) throws IOException {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        long size;
        try (InputStream in = LayerCompression.decompressed(new BufferedInputStream(rootfs, 1 << 16));
             OutputStream out = new DigestOutputStream(Files.newOutputStream(file), sha256)) {
            size = in.transferTo(out);
        } catch (IOException e) {
            throw new IOException("invalid rootfs archive: it cannot be decompressed: " + e.getMessage(), e);
        }
        if (size == 0) {
            throw new IOException("invalid rootfs archive: it is empty");
        }
        checkTar(file);
        return "sha256:" + HexFormat.of().formatHex(sha256.digest());
    }

    /** Reads every member through to the end: a text file, a truncated tar or a bad header is refused. */
    private static void checkTar(Path file) throws IOException {
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            int members = 0;
            while (tar.getNextEntry() != null) {
                tar.transferTo(OutputStream.nullOutputStream());
                members++;
            }
            if (members == 0 && Files.size(file) < 1024) {
                throw new IOException("it holds no tar header");
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new IOException("invalid rootfs archive: not a tar archive: " + e.getMessage(), e);
        }
    }

    /**
     * The image config of an imported layer, as Docker writes it for {@code docker import}.
     *
     * @param containerConfig the {@code config} (Cmd, Env, ...) the changes made
     */
    static byte[] config(String diffId, String message, ObjectNode containerConfig, Instant created)
            throws IOException {
        Manifests.Platform host = Manifests.Platform.host();
        String comment = message == null || message.isEmpty() ? DEFAULT_MESSAGE : message;
        ObjectNode config = JSON.createObjectNode();
        config.put("architecture", host.architecture());
        if (host.variant() != null) {
            config.put("variant", host.variant());
        }
        config.put("comment", comment);
        config.set("config", containerConfig);
        config.put("created", created.toString());
        ObjectNode history = config.putArray("history").addObject();
        history.put("created", created.toString());
        history.put("comment", comment);
        config.put("os", host.os());
        ObjectNode rootfs = config.putObject("rootfs");
        rootfs.put("type", "layers");
        rootfs.putArray("diff_ids").add(diffId);
        return JSON.writeValueAsBytes(config);
    }

    /** The container config the changes give, from an empty one. */
    static ObjectNode changes(List<String> changes) {
        return ImageChanges.apply(JSON.createObjectNode(), changes == null ? List.of() : changes);
    }
}
