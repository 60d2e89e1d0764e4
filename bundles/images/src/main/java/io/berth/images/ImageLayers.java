package io.berth.images;

import io.berth.images.ImageIndex.ImageRecord;
import io.berth.spi.images.ContentStore;
import io.berth.spi.images.Layer;
import io.berth.spi.images.LayerStore;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
 * <p><b>Layer content.</b> The layer store cannot give a layer's tar back, so each layer's tar is kept in the
 * content store: uncompressed, keyed by its diff id, or (for a pulled layer) as the gzip blob the image
 * records for that diff id; {@link #openTar} gives it back either way for {@code save}.
 */
final class ImageLayers {

    /** Opens one layer's uncompressed tar. */
    @FunctionalInterface
    interface TarSource {
        InputStream open() throws IOException;

        /**
         * The digest of the gzip blob this tar is read from when the image keeps that blob (a pulled layer):
         * then the uncompressed tar is not kept besides it, which saves writing, syncing and reading it again.
         * {@code null} (the default) when the tar must be kept uncompressed.
         */
        default String keptGzip() {
            return null;
        }

        static TarSource fromKeptGzip(String gzipDigest, TarSource source) {
            return new TarSource() {
                @Override
                public InputStream open() throws IOException {
                    return source.open();
                }

                @Override
                public String keptGzip() {
                    return gzipDigest;
                }
            };
        }
    }

    /**
     * Layers of a {@link Chain} unpacked ahead of their turn (see {@link LayerStore#beginChain}): layer {@code index}
     * recorded with one reference, as {@link LayerStore#register} would give it, or {@code null} to unpack it now.
     */
    @FunctionalInterface
    interface Ahead {
        Layer take(int index) throws IOException;
    }

    /** A {@link LayerStore.LayerChain} for layers {@code from} to the top of an image. */
    record AheadChain(LayerStore.LayerChain layers, int from) {
    }

    /**
     * Begins storing an image's layers out of order where the layer store allows it: the layers above the ones
     * it has, when each is read from a gzip blob the image will keep (nothing else has to be written first).
     * {@code null} when it does not allow it, or nothing is left to unpack.
     */
    AheadChain beginAhead(List<TarSource> tars, List<String> diffIds) throws IOException {
        String parent = null;
        int from = 0;
        while (from < tars.size()) {
            String chainId = Digests.chainId(parent, diffIds.get(from));
            if (layers.get(chainId) == null) {
                break;
            }
            parent = chainId;
            from++;
        }
        if (from == tars.size()) {
            return null;
        }
        for (int i = from; i < tars.size(); i++) {
            if (tars.get(i).keptGzip() == null || content.exists(diffIds.get(i))) {
                return null;
            }
        }
        LayerStore.LayerChain chain = layers.beginChain(parent, diffIds.subList(from, tars.size()));
        return chain == null ? null : new AheadChain(chain, from);
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
        Chain chain = new Chain(id, created, tars, diffIds, newBlobs, heldTops, unpacking);
        while (!chain.complete()) {
            chain.registerNext();
        }
        return chain.record();
    }

    /**
     * {@link #register}, one layer at a time, so that a pull can register a layer as soon as it and the ones
     * below it are downloaded. Between two layers the caller may let go of the image store's lock: the layers
     * this chain registered hold each other and the layers below them; existing layers above the last one it
     * registered are held by their images only, and {@link #registerNext} checks that they are still there and
     * registers again those that went away meanwhile (their image was removed).
     */
    final class Chain {
        private final String id;
        private final String created;
        private final List<TarSource> tars;
        private final List<String> diffIds;
        private final List<String> newBlobs;
        private final List<String> heldTops;
        private final Unpacking unpacking;
        private Ahead ahead = index -> null;
        private final List<Layer> chain = new ArrayList<>();
        /** The one layer this chain holds a reference on (the last it registered), or null. */
        private String ownTop;
        /** How many layers at the bottom of {@link #chain} {@link #ownTop} holds (itself included). */
        private int held;

        Chain(String id, String created, List<TarSource> tars, List<String> diffIds, List<String> newBlobs,
              List<String> heldTops, Unpacking unpacking) {
            this.id = id;
            this.created = created;
            this.tars = tars;
            this.diffIds = diffIds;
            this.newBlobs = newBlobs;
            this.heldTops = heldTops;
            this.unpacking = unpacking;
        }

        boolean complete() {
            return chain.size() == tars.size();
        }

        /** Takes layers that were unpacked ahead of their turn from {@code ahead} instead of unpacking them. */
        void unpackedAhead(Ahead ahead) {
            this.ahead = ahead;
        }

        /** Index of the layer {@link #registerNext} registers. */
        int next() {
            return chain.size();
        }

        /** Registers the next layer; its tar and those of the layers below it must be readable. */
        void registerNext() throws IOException {
            if (chain.size() > held && layers.get(chain.get(chain.size() - 1).chainId()) == null) {
                // Existing layers this chain builds on were removed meanwhile: register them again.
                int upTo = chain.size();
                chain.subList(held, upTo).clear();
                while (chain.size() < upTo) {
                    add(chain.size());
                }
            }
            add(chain.size());
        }

        private void add(int i) throws IOException {
            String diffId = diffIds.get(i);
            boolean top = i == tars.size() - 1;
            String parent = chain.isEmpty() ? null : chain.get(chain.size() - 1).chainId();
            String chainId = Digests.chainId(parent, diffId);
            Layer existing = layers.get(chainId);
            if (existing == null) {
                unpacking.extracting(i);
            }
            TarSource source = tars.get(i);
            boolean keptUncompressed = content.exists(diffId);
            if (!keptUncompressed && source.keptGzip() == null) {
                try (InputStream tar = source.open()) {
                    content.write(tar, diffId, -1);
                } catch (IOException e) {
                    throw notTheDiffId(i, id, diffId, e.getMessage(), e);
                }
                newBlobs.add(diffId);
                keptUncompressed = true;
            }
            Layer layer;
            if (existing != null && !top) {
                layer = existing; // kept by whoever has it; a new child above takes its own reference
                if (!keptUncompressed) {
                    verify(i, id, diffId, source); // not unpacked, so nothing else checks this blob
                }
            } else {
                layer = ahead.take(i);
                if (layer == null) {
                    try (InputStream tar = keptUncompressed ? content.read(diffId) : source.open()) {
                        layer = layers.register(tar, parent);
                    } catch (IOException e) {
                        if (keptUncompressed) {
                            throw e;
                        }
                        throw notTheDiffId(i, id, diffId, e.getMessage(), e);
                    }
                }
                heldTops.add(layer.chainId());
                if (ownTop != null) {
                    layers.release(ownTop); // the new layer holds it, through its parent
                    heldTops.remove(heldTops.lastIndexOf(ownTop));
                }
                ownTop = layer.chainId();
                held = chain.size() + 1;
                if (!layer.diffId().equals(diffId)) {
                    throw notTheDiffId(i, id, diffId, "it gives " + layer.diffId(), null);
                }
                if (existing == null) {
                    unpacking.done(i);
                }
            }
            chain.add(layer);
        }

        /** The image's record once every layer is registered. */
        ImageRecord record() {
            if (!complete()) {
                throw new IllegalStateException("layer " + (next() + 1) + " of image " + id + " is not registered");
            }
            return new ImageRecord(id, chain.stream().map(Layer::chainId).toList(), diffIds, created,
                    chain.stream().mapToLong(Layer::size).sum(), null, null);
        }
    }

    private static void verify(int index, String id, String diffId, TarSource source) throws IOException {
        String actual;
        try (InputStream tar = source.open()) {
            actual = "sha256:" + Digests.sha256Hex(tar);
        } catch (IOException e) {
            throw notTheDiffId(index, id, diffId, e.getMessage(), e);
        }
        if (!actual.equals(diffId)) {
            throw notTheDiffId(index, id, diffId, "it gives " + actual, null);
        }
    }

    // Either the compression is broken or the content is not what the config says.
    private static IOException notTheDiffId(int index, String id, String diffId, String why, Exception cause) {
        return new IOException("layer " + (index + 1) + " of image " + id + " does not decompress to diff id "
                + diffId + " of its config: " + why, cause);
    }

    /** Whether {@link #openTar} can give the layer's tar. */
    boolean hasTar(ImageRecord record, String diffId) throws IOException {
        String gzip = record.compressed().get(diffId);
        return content.exists(diffId) || (gzip != null && content.exists(gzip));
    }

    /** A layer's uncompressed tar: the blob kept by its diff id, or the image's gzip blob of it, decompressed. */
    InputStream openTar(ImageRecord record, String diffId) throws IOException {
        if (content.exists(diffId)) {
            return content.read(diffId);
        }
        String gzip = record.compressed().get(diffId);
        if (gzip == null) {
            throw new IOException("the content of layer " + diffId + " of image " + record.id() + " was not kept");
        }
        return LayerCompression.GZIP.open(new BufferedInputStream(content.read(gzip)));
    }

    /** The size of {@link #openTar}'s tar (which, from a gzip blob, takes reading it once). */
    long tarSize(ImageRecord record, String diffId) throws IOException {
        if (content.exists(diffId)) {
            return content.size(diffId);
        }
        try (InputStream tar = openTar(record, diffId)) {
            return tar.transferTo(OutputStream.nullOutputStream());
        }
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
