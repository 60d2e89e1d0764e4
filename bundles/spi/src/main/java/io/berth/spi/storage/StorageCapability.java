package io.berth.spi.storage;

/**
 * Optional abilities a storage driver declares in
 * {@link StorageDriver#capabilities()}. The conformance suite skips a test
 * only when the driver does not declare the capability the test needs.
 */
public enum StorageCapability {

    /** Keeps {@code security.*} and {@code trusted.*} extended attributes (needs root). */
    PRIVILEGED_XATTRS,

    /** Keeps character and block device nodes (needs CAP_MKNOD). */
    DEVICE_NODES,

    /** Children share unchanged blocks with their parent (snapshots, reflinks, overlay). */
    COPY_ON_WRITE,

    /**
     * {@link DiffDriver#applyDiff} of a layer writes only that layer's own
     * directory and never reads its parents, and {@link StorageDriver#create}
     * needs only the parent to exist, not its content. So the diffs of a chain
     * of layers may be applied in any order, also at the same time, once the
     * layers are created parent first (overlay's upper directories; not a
     * driver that copies or snapshots the parent at create time). A pull
     * unpacks a small top layer while the big layers below it still download.
     *
     * @since 1.1
     */
    INDEPENDENT_DIFFS
}
