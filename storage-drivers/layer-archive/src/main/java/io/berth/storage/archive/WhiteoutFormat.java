package io.berth.storage.archive;

/** How deletions are represented on disk while a layer tar is extracted or written. */
public enum WhiteoutFormat {

    /**
     * The directory holds the full view of the layer (its parents' content plus its own):
     * whiteouts delete, opaque markers empty a directory of its parents' content.
     */
    OCI,

    /**
     * The directory is an overlayfs upper directory: a whiteout is a character device 0/0,
     * an opaque directory carries the extended attribute {@code trusted.overlay.opaque=y}.
     */
    OVERLAY
}
