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
    COPY_ON_WRITE
}
