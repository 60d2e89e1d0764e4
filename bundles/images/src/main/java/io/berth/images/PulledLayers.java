package io.berth.images;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.images.ImageIndex.ImageRecord;
import io.berth.images.ImageLayers.TarSource;
import io.berth.images.ImageLayers.Unpacking;
import io.berth.spi.images.ContentStore;
import io.berth.spi.images.Layer;
import io.berth.spi.images.Reference;
import io.berth.spi.images.RegistryClient;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Unpacks a pulled image's layers while the registry client still downloads: layer i is registered as soon as it
 * and every layer below it are in the content store (verified by it), on a thread of its own, as dockerd does.
 *
 * <p>Each layer is registered holding {@code lock}, the image store's, so other image commands may wait for one
 * layer's unpacking (the layer store is busy then anyway) but never for the network. An image the store has
 * already is not unpacked again. If the pull fails, {@link #abandon} stops the unpacking after the layer under way
 * and {@link #undo} takes back every layer reference and blob it added.
 */
final class PulledLayers implements RegistryClient.PullListener {

    private static final System.Logger LOG = System.getLogger("berth.images");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Object lock;
    private final ImageIndex index;
    private final ContentStore content;
    private final ImageLayers imageLayers;
    private final Reference ref;
    private final Consumer<RegistryClient.Progress> events;

    // Set by resolved(), before any layer is stored.
    private RegistryClient.Pulled pulled;
    private String created;
    private List<String> diffIds;
    private List<TarSource> tars;
    /** Diff id -> gzip blob, of the layers pulled as gzip (the image keeps those blobs instead of the tars). */
    private final Map<String, String> compressed = new TreeMap<>();
    /** "diff-id blob" of every layer some image keeps as that gzip blob. */
    private final Set<String> knownPairs = new TreeSet<>();
    private ImageLayers.Chain chain;
    private Thread unpacker;
    /** Layers unpacked as soon as they are downloaded, on {@link #aheadWorkers}, when the layer store allows it. */
    private ImageLayers.AheadChain ahead;
    private ExecutorService aheadWorkers;
    // Guarded by this: each layer's unpacking ahead, once it is under way.
    private final Map<Integer, Future<?>> aheadUnpacks = new TreeMap<>();

    private final List<String> newBlobs = new ArrayList<>();
    private final List<String> heldTops = new ArrayList<>();
    // Guarded by this.
    private boolean[] stored;
    private boolean abandoned;
    private IOException failure;

    PulledLayers(Object lock, ImageIndex index, ContentStore content, ImageLayers imageLayers, Reference ref,
                 Consumer<RegistryClient.Progress> events) {
        this.lock = lock;
        this.index = index;
        this.content = content;
        this.imageLayers = imageLayers;
        this.ref = ref;
        this.events = events;
    }

    /** Checks the config against the manifest and starts unpacking unless the image is here already. */
    @Override
    public void resolved(RegistryClient.Pulled image) throws IOException {
        if (pulled != null) {
            throw new IllegalStateException("a pull resolved twice");
        }
        pulled = image;
        String id = image.configDigest();
        if (id == null || !Digests.ID.matcher(id).matches()) {
            throw new IOException("manifest " + image.manifestDigest() + " of " + ref + " has no valid config digest");
        }
        byte[] config;
        try (InputStream in = content.read(id)) {
            config = in.readAllBytes();
        }
        if (!id.equals(Digests.sha256(config))) {
            throw new IOException("config " + id + " of " + ref + " does not match its digest");
        }
        JsonNode root;
        try {
            root = JSON.readTree(config);
        } catch (IOException e) {
            throw new IOException("invalid image config " + id + " of " + ref + ": not JSON");
        }
        JsonNode diffIdNodes = root == null ? null : root.path("rootfs").get("diff_ids");
        if (diffIdNodes == null || !diffIdNodes.isArray()) {
            throw new IOException("invalid image config " + id + " of " + ref + ": it has no rootfs.diff_ids");
        }
        List<RegistryClient.Blob> blobs = image.layers();
        if (diffIdNodes.size() != blobs.size()) {
            throw new IOException("manifest " + image.manifestDigest() + " of " + ref + " lists " + blobs.size()
                    + " layers but config " + id + " has " + diffIdNodes.size() + " diff_ids");
        }
        created = root.path("created").asText("");
        diffIds = new ArrayList<>();
        tars = new ArrayList<>();
        for (int i = 0; i < blobs.size(); i++) {
            String diffId = diffIdNodes.get(i).asText();
            if (!Digests.ID.matcher(diffId).matches()) {
                throw new IOException("invalid image config " + id + ": bad diff id \"" + diffId + "\"");
            }
            RegistryClient.Blob blob = blobs.get(i);
            LayerCompression compression = LayerCompression.ofMediaType(blob.mediaType(), blob.digest());
            diffIds.add(diffId);
            TarSource tar = () -> compression.open(new BufferedInputStream(content.read(blob.digest())));
            if (compression == LayerCompression.GZIP) {
                compressed.put(diffId, blob.digest());
                tar = TarSource.fromKeptGzip(blob.digest(), tar); // the image keeps the gzip blob, not a copy
            }
            tars.add(tar);
        }
        synchronized (this) {
            stored = new boolean[blobs.size()];
        }
        synchronized (lock) {
            if (index.read(id) != null) {
                return; // nothing to unpack; commit() records the new name
            }
            for (ImageRecord other : index.records()) {
                other.compressed().forEach((diffId, gzip) -> knownPairs.add(diffId + " " + gzip));
            }
        }
        chain = imageLayers.new Chain(id, created, tars, diffIds, newBlobs, heldTops, new Unpacking() {
            @Override
            public void extracting(int layer) {
                if (ahead == null || layer < ahead.from()) { // the ahead worker said it when it began
                    PulledLayers.this.extracting(blobs, layer);
                }
            }

            @Override
            public void done(int layer) {
                events.accept(new RegistryClient.Progress(Digests.shortDigest(blobs.get(layer).digest()),
                        "Pull complete", -1, -1));
            }
        });
        synchronized (lock) {
            ahead = imageLayers.beginAhead(tars, diffIds);
        }
        if (ahead != null) {
            chain.unpackedAhead(this::takeAhead);
            // Two: the layers that arrive together (downloads run three at a time) unpack side by side, one per core.
            aheadWorkers = Executors.newFixedThreadPool(2, work -> {
                Thread thread = new Thread(work, "berth-pull-unpack-ahead");
                thread.setDaemon(true);
                return thread;
            });
        }
        unpacker = new Thread(this::unpack, "berth-pull-unpack");
        unpacker.setDaemon(true);
        unpacker.start();
    }

    /** Lets the unpacker go on; fails the pull once unpacking has failed. */
    @Override
    public synchronized void layerStored(int layer) throws IOException {
        if (failure != null) {
            throw new IOException(failure.getMessage(), failure);
        }
        stored[layer] = true;
        notifyAll();
        if (ahead != null && layer >= ahead.from() && !abandoned) {
            aheadUnpacks.put(layer, aheadWorkers.submit(() -> {
                extracting(pulled.layers(), layer);
                try (InputStream tar = tars.get(layer).open()) {
                    ahead.layers().unpack(layer - ahead.from(), tar);
                }
                return null;
            }));
        }
    }

    @Override
    public boolean unpacksInAnyOrder() {
        return ahead != null;
    }

    private void extracting(List<RegistryClient.Blob> blobs, int layer) {
        events.accept(new RegistryClient.Progress(Digests.shortDigest(blobs.get(layer).digest()), "Extracting", -1, -1));
    }

    /**
     * The layer as its unpacking ahead recorded it, or null to unpack it in turn: it was not unpacked ahead, its
     * unpacking failed (unpacking it in turn says why, or works), or the layer store cannot record it.
     */
    private Layer takeAhead(int layer) throws IOException {
        return ahead != null && layer >= ahead.from() && unpackedAhead(layer, false)
                ? ahead.layers().commit(layer - ahead.from()) : null;
    }

    /**
     * Whether the layer's unpacking ahead is under way and has succeeded; with {@code wait}, waits for it to end
     * first (never while holding the image store's lock). A failure is not reported here: the layer is unpacked
     * in turn instead, which reports the reason if it fails again.
     */
    private boolean unpackedAhead(int layer, boolean wait) {
        Future<?> unpacking;
        synchronized (this) {
            unpacking = aheadUnpacks.get(layer);
        }
        if (unpacking == null || !wait && !unpacking.isDone()) {
            return false;
        }
        try {
            unpacking.get();
            return true;
        } catch (ExecutionException | CancellationException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Lets the workers end what they are unpacking, then removes what was unpacked ahead and not recorded. */
    private void endAhead() {
        if (ahead == null) {
            return;
        }
        aheadWorkers.shutdown();
        try {
            while (!aheadWorkers.awaitTermination(1, TimeUnit.MINUTES)) {
                LOG.log(System.Logger.Level.WARNING, "still unpacking layers of " + ref + " ahead");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            ahead.layers().close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot remove layers of " + ref + " unpacked ahead: " + e.getMessage(), e);
        }
    }

    /** The unpacker thread: each layer in turn once it is stored, until all are, or the pull is abandoned. */
    private void unpack() {
        try {
            while (!chain.complete()) {
                int layer = chain.next();
                if (!awaitStored(layer)) {
                    return;
                }
                unpackedAhead(layer, true);
                synchronized (lock) {
                    verifyKeptLayer(layer);
                    chain.registerNext();
                }
            }
        } catch (IOException | RuntimeException e) {
            synchronized (this) {
                failure = e instanceof IOException io ? io : new IOException(e.getMessage(), e);
            }
        } finally {
            endAhead();
        }
    }

    /** Whether the layer is stored and the pull goes on. */
    private synchronized boolean awaitStored(int layer) throws InterruptedIOException {
        while (!stored[layer] && !abandoned) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for layer " + (layer + 1));
            }
        }
        return !abandoned;
    }

    /**
     * A layer whose uncompressed tar is kept already is registered from that tar, not from the pulled blob: unless
     * the blob is known to be that tar (compressed), check that it decompresses to the diff id the config names.
     */
    private void verifyKeptLayer(int layer) throws IOException {
        String diffId = diffIds.get(layer);
        String digest = pulled.layers().get(layer).digest();
        if (!content.exists(diffId) || digest.equals(diffId) || knownPairs.contains(diffId + " " + digest)) {
            return;
        }
        String actual;
        try (InputStream tar = tars.get(layer).open()) {
            actual = "sha256:" + Digests.sha256Hex(tar);
        }
        if (!actual.equals(diffId)) {
            throw new IOException("layer " + (layer + 1) + " (" + digest + ") decompresses to " + actual
                    + " but the config says diff id " + diffId);
        }
    }

    /** Stops unpacking after the layer under way (if any) and waits for that. */
    void abandon() throws InterruptedIOException {
        synchronized (this) {
            abandoned = true;
            notifyAll();
        }
        join();
    }

    /** Once every layer is stored: waits for the unpacking to end; the caller must not hold {@code lock}. */
    void awaitUnpacked() throws IOException {
        join();
        synchronized (this) {
            if (failure != null) {
                throw failure;
            }
        }
    }

    /**
     * After {@link #awaitUnpacked}: writes the image's record, registering first what is left to (the image was
     * here when the pull began and has been removed since). The caller holds {@code lock}, and keeps it to name
     * the image, so the image appears at once, whole.
     */
    Stored commit() throws IOException {
        String id = pulled.configDigest();
        ImageRecord known = index.read(id);
        if (known != null) {
            if (chain != null) {
                // Pulled twice at once, and the other pull stored it first: drop what this one added.
                List<String> kept = new ArrayList<>();
                for (String blob : newBlobs) {
                    if (index.isKept(blob)) {
                        kept.add(blob);
                    }
                }
                newBlobs.removeAll(kept);
                undo(new IOException("image " + id + " was stored by another pull"));
                chain = null;
            }
            ImageRecord record = known.with(compressed, pulled.manifestDigest());
            index.write(record);
            return new Stored(record, true);
        }
        if (chain == null) {
            // It was here when the pull began, and removed since: unpack it now (every blob is stored).
            chain = imageLayers.new Chain(id, created, tars, diffIds, newBlobs, heldTops, Unpacking.NONE);
        }
        while (!chain.complete()) {
            verifyKeptLayer(chain.next());
            chain.registerNext();
        }
        ImageRecord record = chain.record().with(compressed, pulled.manifestDigest());
        index.write(record);
        return new Stored(record, false);
    }

    /** The stored image record, and whether the image was in the store before the pull. */
    record Stored(ImageRecord record, boolean known) {
    }

    /** After a failed pull: takes back the layer references and blobs the unpacking added. Holds the lock. */
    void undo(Exception e) {
        synchronized (lock) {
            imageLayers.undo(e, heldTops, newBlobs);
            heldTops.clear();
            newBlobs.clear();
        }
    }

    private void join() throws InterruptedIOException {
        if (unpacker == null) {
            return;
        }
        try {
            unpacker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while layers of " + ref + " were unpacked");
        }
    }
}
