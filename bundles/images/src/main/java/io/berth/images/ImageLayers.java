package io.berth.images;

import io.berth.images.ImageIndex.ImageRecord;
import io.berth.spi.images.ContentStore;
import io.berth.spi.images.Layer;
import io.berth.spi.images.LayerStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Puts an image's layers into the layer store and its blobs into the content store, and takes them back out
 * when a later step fails. Load, pull and import all store images through it.
 *
 * <p><b>Layer references.</b> An image holds exactly one reference in the {@link LayerStore}: on its
 * top layer. The layer store's parent references keep the rest of the chain, so deleting an image
 * releases its top layer once and the chain goes away with it unless something else uses it.
 *
 * <p><b>Layer content.</b> The layer store cannot give a layer's tar back, so each layer's uncompressed tar is
 * kept as a blob in the content store, keyed by its diff id; {@code save} and {@code push} read those blobs.
 */
final class ImageLayers {

    /** Opens one layer's uncompressed tar. */
    @FunctionalInterface
    interface TarSource {
        InputStream open() throws IOException;
    }

    /** Told when a layer is actually unpacked into the layer store (by index, bottom first). */
    interface Unpacking {
        Unpacking NONE = new Unpacking() {
        };

        default void extracting(int index) {
        }

        default void done(int index) {
        }
    }

    private final ContentStore content;
    private final LayerStore layers;

    ImageLayers(ContentStore content, LayerStore layers) {
        this.content = content;
        this.layers = layers;
    }

    /**
     * Puts an image's layers into the layer store, bottom first, keeping each layer's uncompressed tar as a blob
     * keyed by its diff id (written only when missing, and verified against the diff id as it is written).
     * Layers whose chain exists already are not unpacked again: below the top they are only used as parents
     * (a new child takes its own reference on its parent); an existing top takes one more reference. When it
     * returns, the image holds exactly one reference: on its top layer, which is in {@code heldTops}; layers
     * and blobs it added are in {@code heldTops} and {@code newBlobs} for {@link #undo} if a later step fails.
     */
    ImageRecord register(String id, String created, List<TarSource> tars, List<String> diffIds,
                                       List<String> newBlobs, List<String> heldTops, Unpacking unpacking)
            throws IOException {
        String parent = null;
        boolean parentHeld = false;
        List<String> chain = new ArrayList<>();
        long size = 0;
        for (int i = 0; i < tars.size(); i++) {
            String diffId = diffIds.get(i);
            boolean top = i == tars.size() - 1;
            String chainId = parent == null ? diffId
                    : "sha256:" + Digests.sha256Hex((parent + " " + diffId).getBytes(StandardCharsets.UTF_8));
            Layer existing = layers.get(chainId);
            if (existing == null) {
                unpacking.extracting(i);
            }
            if (!content.exists(diffId)) {
                try (InputStream tar = tars.get(i).open()) {
                    content.write(tar, diffId, -1);
                } catch (IOException e) {
                    // Either the compression is broken or the content is not what the config says.
                    throw new IOException("layer " + (i + 1) + " of image " + id + " does not decompress to diff id "
                            + diffId + " of its config: " + e.getMessage(), e);
                }
                newBlobs.add(diffId);
            }
            Layer layer;
            if (existing != null && !top) {
                layer = existing; // kept by whoever has it; a new child above takes its own reference
                parentHeld = false;
            } else {
                try (InputStream tar = content.read(diffId)) {
                    layer = layers.register(tar, parent);
                }
                heldTops.add(layer.chainId());
                if (parentHeld) {
                    layers.release(parent); // the child now holds the parent
                    heldTops.remove(heldTops.size() - 2);
                }
                parentHeld = true;
                if (!layer.diffId().equals(diffId)) {
                    throw new IOException("layer store computed diff id " + layer.diffId() + " for " + diffId);
                }
                if (existing == null) {
                    unpacking.done(i);
                }
            }
            chain.add(layer.chainId());
            size += layer.size();
            parent = layer.chainId();
        }
        return new ImageRecord(id, chain, diffIds, created, size, null, null);
    }

    /** Drops the layer references and blobs a failed load or pull took. */
    void undo(Exception e, List<String> heldTops, List<String> newBlobs) {
        for (int i = heldTops.size() - 1; i >= 0; i--) {
            try {
                layers.release(heldTops.get(i));
            } catch (IOException | RuntimeException again) {
                e.addSuppressed(again);
            }
        }
        for (String blob : newBlobs) {
            try {
                content.delete(blob);
            } catch (IOException | RuntimeException again) {
                e.addSuppressed(again);
            }
        }
    }

    /** Writes a blob unless it is there; a new one is added to {@code newBlobs}. */
    void writeBlob(InputStream in, String digest, List<String> newBlobs) throws IOException {
        if (content.exists(digest)) {
            return;
        }
        content.write(in, digest, -1);
        newBlobs.add(digest);
    }
}
