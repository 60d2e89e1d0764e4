package io.berth.images;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** sha256 digests and ids as the image store writes and checks them. */
final class Digests {

    /** A full id or digest: {@code sha256:} and 64 hex digits. */
    static final Pattern ID = Pattern.compile("sha256:[0-9a-f]{64}");
    static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

    private Digests() {
    }

    static String sha256Hex(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return sha256Hex(in);
        }
    }

    static String sha256Hex(InputStream in) throws IOException {
        DigestInputStream digesting = new DigestInputStream(in, sha256());
        digesting.transferTo(OutputStream.nullOutputStream());
        return HexFormat.of().formatHex(digesting.getMessageDigest().digest());
    }

    static String sha256Hex(byte[] data) {
        return HexFormat.of().formatHex(sha256().digest(data));
    }

    /** {@code sha256:<hex>} of the bytes. */
    static String sha256(byte[] data) {
        return "sha256:" + sha256Hex(data);
    }

    /** The 12 characters Docker shows for an id, after any {@code sha256:} (Docker's stringid.TruncateID). */
    /** A layer's chain id: its diff id for a base layer, else sha256 of "PARENT-CHAIN-ID DIFF-ID" (OCI image spec). */
    static String chainId(String parentChainId, String diffId) {
        return parentChainId == null ? diffId
                : sha256((parentChainId + " " + diffId).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    static String shortId(String id) {
        String bare = id.substring(id.indexOf(':') + 1);
        return bare.length() > 12 ? bare.substring(0, 12) : bare;
    }

    /** The 12 hex digits of a digest, as pull progress names layers; anything else as it is. */
    static String shortDigest(String digest) {
        return digest != null && digest.startsWith("sha256:") && digest.length() >= 19 ? digest.substring(7, 19) : digest;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
