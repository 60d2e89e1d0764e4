package io.berth.spi.images;

import java.util.List;

/**
 * What {@code docker image prune} did.
 *
 * @param deleted        {@code Untagged: ...} and {@code Deleted: sha256:...} lines, as {@link ImageStore#remove} gives them
 * @param spaceReclaimed bytes of layer content that went away
 */
public record ImagePruneReport(List<String> deleted, long spaceReclaimed) {

    public ImagePruneReport {
        deleted = List.copyOf(deleted);
    }
}
