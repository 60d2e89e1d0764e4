package io.berth.spi.images;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An image reference, normalised as Docker does: {@code busybox} is
 * {@code docker.io/library/busybox:latest}, {@code user/app} is
 * {@code docker.io/user/app:latest}, {@code localhost:5000/app@sha256:...}
 * keeps its registry and digest. The grammar is the distribution project's
 * reference grammar; anything else is refused with the reason.
 *
 * @param domain the registry host (and port), e.g. {@code docker.io}
 * @param path   the repository path, e.g. {@code library/busybox}
 * @param tag    the tag, or {@code null} when only a digest was given
 * @param digest {@code sha256:...}, or {@code null}
 */
public record Reference(String domain, String path, String tag, String digest) {

    /** Docker Hub, as references name it. */
    public static final String DOCKER_HUB = "docker.io";
    private static final String DEFAULT_TAG = "latest";

    private static final String COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
    private static final Pattern PATH = Pattern.compile(COMPONENT + "(?:/" + COMPONENT + ")*");
    private static final Pattern DOMAIN = Pattern.compile(
            "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*"
                    + "(?::[0-9]+)?|\\[[0-9a-fA-F:]+](?::[0-9]+)?");
    private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
    private static final Pattern DIGEST = Pattern.compile("sha256:[a-f0-9]{64}");
    private static final Pattern WHOLE = Pattern.compile("^([^@]+?)(?::([^:/@]+))?(?:@(.+))?$");

    public Reference {
        if (domain == null || path == null) {
            throw new IllegalArgumentException("a reference needs a domain and a path");
        }
        if (tag == null && digest == null) {
            tag = DEFAULT_TAG;
        }
    }

    /**
     * Parses and normalises a reference as the docker CLI accepts it.
     *
     * @throws IllegalArgumentException saying what is wrong, in Docker's words where it has some
     */
    public static Reference parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("invalid reference format: repository name must have at least one component");
        }
        if (text.length() > 4096) {
            throw new IllegalArgumentException("invalid reference format: too long");
        }
        Matcher whole = WHOLE.matcher(text);
        if (!whole.matches()) {
            throw new IllegalArgumentException("invalid reference format: " + text);
        }
        String name = whole.group(1);
        String tag = whole.group(2);
        String digest = whole.group(3);
        if (tag != null && !TAG.matcher(tag).matches()) {
            throw new IllegalArgumentException("invalid reference format: invalid tag \"" + tag + "\"");
        }
        if (digest != null && !DIGEST.matcher(digest).matches()) {
            throw new IllegalArgumentException("invalid reference format: invalid digest \"" + digest
                    + "\" (expected sha256: and 64 lowercase hex digits)");
        }
        String domain = DOCKER_HUB;
        String path = name;
        int slash = name.indexOf('/');
        if (slash > 0) {
            String first = name.substring(0, slash);
            if (first.contains(".") || first.contains(":") || first.equals("localhost") || !first.equals(first.toLowerCase())) {
                domain = first;
                path = name.substring(slash + 1);
            }
        }
        if (!DOMAIN.matcher(domain).matches()) {
            throw new IllegalArgumentException("invalid reference format: invalid registry \"" + domain + "\"");
        }
        if (domain.equals("index.docker.io") || domain.equals("registry-1.docker.io")) {
            domain = DOCKER_HUB;
        }
        if (!path.equals(path.toLowerCase())) {
            throw new IllegalArgumentException("invalid reference format: repository name (" + path + ") must be lowercase");
        }
        if (!PATH.matcher(path).matches()) {
            throw new IllegalArgumentException("invalid reference format: invalid repository name \"" + path + "\"");
        }
        if (domain.equals(DOCKER_HUB) && !path.contains("/")) {
            path = "library/" + path;
        }
        if (domain.length() + 1 + path.length() > 255) {
            throw new IllegalArgumentException("invalid reference format: repository name must not be more than 255 characters");
        }
        return new Reference(domain, path, tag != null || digest == null ? (tag == null ? DEFAULT_TAG : tag) : null, digest);
    }

    /** The repository with its registry: {@code docker.io/library/busybox}. */
    public String name() {
        return domain + "/" + path;
    }

    /** The repository as the docker CLI shows it: {@code busybox}, {@code user/app}, {@code localhost:5000/app}. */
    public String familiarName() {
        if (domain.equals(DOCKER_HUB)) {
            return path.startsWith("library/") && path.indexOf('/', "library/".length()) < 0
                    ? path.substring("library/".length()) : path;
        }
        return name();
    }

    /** The whole reference, normalised: {@code docker.io/library/busybox:latest}, with {@code @digest} if any. */
    @Override
    public String toString() {
        return name() + (tag == null ? "" : ":" + tag) + (digest == null ? "" : "@" + digest);
    }
}
