package io.berth.spi.images;

import java.util.List;

/**
 * An image as {@code docker images} and {@code docker inspect} show it.
 *
 * @param id          {@code sha256:...} of its config blob
 * @param repoTags    the references that point at it, e.g. {@code busybox:latest}; empty when dangling
 * @param repoDigests {@code repo@sha256:...} of the manifests it came with, if any
 * @param created     when the config says it was built, as RFC 3339 text, or empty
 * @param size        bytes of content of all its layers
 * @param layers      chain ids of its layers, bottom first
 */
public record Image(String id, List<String> repoTags, List<String> repoDigests, String created, long size,
                    List<String> layers) {

    public Image {
        repoTags = List.copyOf(repoTags);
        repoDigests = List.copyOf(repoDigests);
        layers = List.copyOf(layers);
    }
}
