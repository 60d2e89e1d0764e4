package io.berth.spi.images;

import java.util.List;

/**
 * One entry of {@code docker history}, newest first, as the Engine API's {@code /images/{name}/history} gives it.
 *
 * @param id        the image id on the newest entry; {@code <missing>} on the others (their images are not local)
 * @param created   when the step ran, as RFC 3339 text from the config, or empty
 * @param createdBy the command that made the step, or empty
 * @param tags      the image's tags on the newest entry, empty on the others
 * @param size      bytes of content the step's layer added; 0 for a step without a layer
 * @param comment   the step's comment (for an import: "Imported from -" or the message)
 */
public record ImageHistory(String id, String created, String createdBy, List<String> tags, long size,
                           String comment) {

    public ImageHistory {
        tags = List.copyOf(tags);
    }
}
