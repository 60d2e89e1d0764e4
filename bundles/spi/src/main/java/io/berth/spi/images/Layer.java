package io.berth.spi.images;

/**
 * A read-only image layer as the layer store holds it.
 *
 * @param chainId     {@code sha256:...} of the layer and everything below it (the OCI chain id)
 * @param diffId      {@code sha256:...} of the layer's uncompressed tar
 * @param parent      the parent's chain id, or {@code null} for a base layer
 * @param driver      the storage driver that holds the layer's content
 * @param size        bytes of content the layer added
 * @param references  how many holders (images, other stores) keep it
 */
public record Layer(String chainId, String diffId, String parent, String driver, long size, int references) {
}
