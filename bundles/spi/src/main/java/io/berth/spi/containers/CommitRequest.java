package io.berth.spi.containers;

import java.util.List;

/**
 * {@code docker commit}.
 *
 * @param reference the new image's name, or null for none
 * @param comment   the commit message
 * @param author    the author
 * @param changes   Dockerfile instructions applied to the config (CMD, ENV, ...)
 * @param pause     pause the container while its layer is read
 */
public record CommitRequest(String reference, String comment, String author, List<String> changes, boolean pause) {
}
