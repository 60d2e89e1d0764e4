package io.berth.registry.server;

import java.util.regex.Pattern;

/**
 * Validation of everything in a request that becomes part of a path on disk:
 * repository names, digests, tags and upload ids. Nothing reaches the
 * storage without passing through here.
 */
final class Names {

    /** The distribution spec's repository name grammar (components cannot be "." or ".." or start with "_"). */
    private static final Pattern NAME = Pattern.compile(
            "[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*");
    private static final Pattern TAG = Pattern.compile("[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}");
    private static final Pattern SHA256 = Pattern.compile("sha256:[a-f0-9]{64}");
    private static final Pattern DIGEST_SHAPE = Pattern.compile("[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+");
    private static final Pattern UPLOAD = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final int MAX_NAME = 255;

    private Names() {
    }

    static String repository(String name) throws RegistryException {
        if (name == null || name.length() > MAX_NAME || !NAME.matcher(name).matches()) {
            throw new RegistryException(ErrorCode.NAME_INVALID, "invalid repository name", name);
        }
        return name;
    }

    static String digest(String digest) throws RegistryException {
        if (digest == null || !SHA256.matcher(digest).matches()) {
            String message = digest != null && DIGEST_SHAPE.matcher(digest).matches() && !digest.startsWith("sha256:")
                    ? "unsupported digest algorithm (only sha256)" : "invalid digest";
            throw new RegistryException(ErrorCode.DIGEST_INVALID, message, digest);
        }
        return digest;
    }

    static boolean isDigest(String reference) {
        return reference.indexOf(':') >= 0;
    }

    static String tag(String tag) throws RegistryException {
        if (tag == null || !TAG.matcher(tag).matches()) {
            throw new RegistryException(ErrorCode.MANIFEST_INVALID, "invalid tag", tag);
        }
        return tag;
    }

    static String upload(String id) throws RegistryException {
        if (id == null || !UPLOAD.matcher(id).matches()) {
            throw new RegistryException(ErrorCode.BLOB_UPLOAD_UNKNOWN, "blob upload unknown to registry", id);
        }
        return id;
    }

    /** The hex part of a validated sha256 digest. */
    static String hex(String digest) {
        return digest.substring("sha256:".length());
    }
}
