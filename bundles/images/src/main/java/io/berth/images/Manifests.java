package io.berth.images;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads image manifests and indexes in both the OCI and the Docker schema 2
 * forms, checks them, and picks the manifest for a platform from an index
 * (a "manifest list"). Malformed input is refused with what is wrong.
 */
public final class Manifests {

    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    public static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
    /** An uncompressed layer tar; {@code +gzip} / {@code +zstd} for compressed ones. */
    public static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";

    /** Layer media types berth can unpack (uncompressed, gzip, zstd). */
    public static final Set<String> LAYER_TYPES = Set.of(
            "application/vnd.oci.image.layer.v1.tar",
            "application/vnd.oci.image.layer.v1.tar+gzip",
            "application/vnd.oci.image.layer.v1.tar+zstd",
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip");

    private static final Pattern DIGEST = Pattern.compile("sha256:[a-f0-9]{64}");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A content descriptor: what a manifest or index points at. */
    public record Descriptor(String mediaType, String digest, long size, Platform platform) {
    }

    /** An OS/architecture pair with optional variant, e.g. linux/arm64/v8. */
    public record Platform(String os, String architecture, String variant) {

        /** The platform berth runs containers for. */
        public static Platform host() {
            String arch = switch (System.getProperty("os.arch")) {
                case "amd64", "x86_64" -> "amd64";
                case "aarch64" -> "arm64";
                default -> System.getProperty("os.arch");
            };
            return new Platform("linux", arch, arch.equals("arm64") ? "v8" : null);
        }

        /** Parses {@code os/arch[/variant]} as {@code docker pull --platform} takes it. */
        public static Platform parse(String text) {
            String[] parts = text.split("/");
            if (parts.length < 2 || parts.length > 3 || parts[0].isBlank() || parts[1].isBlank()) {
                throw new IllegalArgumentException("invalid platform \"" + text + "\": expected os/arch[/variant]");
            }
            return new Platform(parts[0], parts[1], parts.length == 3 ? parts[2] : null);
        }

        boolean matches(Platform wanted) {
            return os.equals(wanted.os) && architecture.equals(wanted.architecture)
                    && (wanted.variant == null || wanted.variant.equals(variant)
                    || (variant == null && wanted.variant.equals("v8") && architecture.equals("arm64")));
        }

        @Override
        public String toString() {
            return os + "/" + architecture + (variant == null ? "" : "/" + variant);
        }
    }

    /** An image manifest: its config and its layers, bottom first. */
    public record Manifest(String mediaType, Descriptor config, List<Descriptor> layers) {
    }

    /** An index (manifest list): the manifests it offers, one per platform. */
    public record Index(String mediaType, List<Descriptor> manifests) {

        /** The manifest for the platform; an index without it is an error that names what it has. */
        public Descriptor select(Platform wanted) throws ManifestException {
            Optional<Descriptor> match = manifests.stream()
                    .filter(d -> d.platform() != null && d.platform().matches(wanted)).findFirst();
            if (match.isPresent()) {
                return match.get();
            }
            List<String> offered = manifests.stream().filter(d -> d.platform() != null)
                    .map(d -> d.platform().toString()).toList();
            throw new ManifestException("no matching manifest for " + wanted + " in the manifest list entries"
                    + " (it has " + offered + ")");
        }
    }

    /** A manifest or index that berth cannot accept. */
    public static final class ManifestException extends IOException {
        private static final long serialVersionUID = 1L;

        public ManifestException(String message) {
            super(message);
        }
    }

    private Manifests() {
    }

    /** Whether a media type is an index (manifest list) rather than a manifest. */
    public static boolean isIndex(String mediaType) {
        return OCI_INDEX.equals(mediaType) || DOCKER_LIST.equals(mediaType);
    }

    /**
     * The media type of a manifest document: its {@code mediaType} field, or,
     * for OCI documents that omit it, what its fields show it to be.
     */
    public static String mediaTypeOf(byte[] document) throws ManifestException {
        JsonNode root = parse(document);
        if (root.hasNonNull("mediaType")) {
            return root.get("mediaType").asText();
        }
        if (root.has("manifests")) {
            return OCI_INDEX;
        }
        if (root.has("config") && root.has("layers")) {
            return OCI_MANIFEST;
        }
        throw new ManifestException("manifest invalid: no mediaType and neither manifests nor config/layers");
    }

    public static Manifest manifest(byte[] document) throws ManifestException {
        JsonNode root = parse(document);
        String mediaType = mediaTypeOf(document);
        if (!OCI_MANIFEST.equals(mediaType) && !DOCKER_MANIFEST.equals(mediaType)) {
            throw new ManifestException("manifest invalid: unsupported manifest media type " + mediaType
                    + (mediaType.contains("manifest.v1") ? " (Docker schema 1 is not supported)" : ""));
        }
        requireSchema2(root);
        Descriptor config = descriptor(root.get("config"), "config");
        if (!OCI_CONFIG.equals(config.mediaType()) && !DOCKER_CONFIG.equals(config.mediaType())) {
            throw new ManifestException("manifest invalid: config has media type " + config.mediaType()
                    + ", which is not an image config");
        }
        JsonNode layers = root.get("layers");
        if (layers == null || !layers.isArray()) {
            throw new ManifestException("manifest invalid: \"layers\" must be an array");
        }
        List<Descriptor> result = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            Descriptor layer = descriptor(layers.get(i), "layers[" + i + "]");
            if (!LAYER_TYPES.contains(layer.mediaType())) {
                throw new ManifestException("manifest invalid: layers[" + i + "] has unsupported media type "
                        + layer.mediaType());
            }
            result.add(layer);
        }
        return new Manifest(mediaType, config, List.copyOf(result));
    }

    public static Index index(byte[] document) throws ManifestException {
        JsonNode root = parse(document);
        String mediaType = mediaTypeOf(document);
        if (!isIndex(mediaType)) {
            throw new ManifestException("manifest invalid: " + mediaType + " is not an index or manifest list");
        }
        requireSchema2(root);
        JsonNode manifests = root.get("manifests");
        if (manifests == null || !manifests.isArray()) {
            throw new ManifestException("manifest invalid: \"manifests\" must be an array");
        }
        List<Descriptor> result = new ArrayList<>();
        for (int i = 0; i < manifests.size(); i++) {
            result.add(descriptor(manifests.get(i), "manifests[" + i + "]"));
        }
        return new Index(mediaType, List.copyOf(result));
    }

    /** A descriptor as manifests and indexes write it. */
    static ObjectNode descriptor(String mediaType, String digest, long size) {
        ObjectNode node = JSON.createObjectNode();
        node.put("mediaType", mediaType);
        node.put("digest", digest);
        node.put("size", size);
        return node;
    }

    private static JsonNode parse(byte[] document) throws ManifestException {
        try {
            JsonNode root = JSON.readTree(document);
            if (root == null || !root.isObject()) {
                throw new ManifestException("manifest invalid: not a JSON object");
            }
            return root;
        } catch (ManifestException e) {
            throw e;
        } catch (IOException e) {
            throw new ManifestException("manifest invalid: " + e.getMessage().lines().findFirst().orElse("bad JSON"));
        }
    }

    private static void requireSchema2(JsonNode root) throws ManifestException {
        if (root.path("schemaVersion").asInt(-1) != 2) {
            throw new ManifestException("manifest invalid: schemaVersion must be 2, found " + root.get("schemaVersion"));
        }
    }

    private static Descriptor descriptor(JsonNode node, String where) throws ManifestException {
        if (node == null || !node.isObject()) {
            throw new ManifestException("manifest invalid: " + where + " must be a descriptor object");
        }
        String mediaType = node.path("mediaType").asText(null);
        String digest = node.path("digest").asText(null);
        JsonNode size = node.get("size");
        if (mediaType == null) {
            throw new ManifestException("manifest invalid: " + where + " has no mediaType");
        }
        if (digest == null || !DIGEST.matcher(digest).matches()) {
            throw new ManifestException("manifest invalid: " + where + " has digest " + digest
                    + " (expected sha256: and 64 lowercase hex digits)");
        }
        if (size == null || !size.canConvertToLong() || size.asLong() < 0) {
            throw new ManifestException("manifest invalid: " + where + " has no valid size");
        }
        Platform platform = null;
        JsonNode p = node.get("platform");
        if (p != null && p.isObject()) {
            platform = new Platform(p.path("os").asText(""), p.path("architecture").asText(""),
                    p.hasNonNull("variant") ? p.get("variant").asText() : null);
        }
        return new Descriptor(mediaType, digest, size.asLong(), platform);
    }
}
