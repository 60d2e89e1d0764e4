package io.berth.images;

import static io.berth.images.ImageIndex.familiar;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.images.ImageIndex.ImageRecord;
import io.berth.images.ImageIndex.Repositories;
import io.berth.spi.images.ContentStore;
import io.berth.spi.images.Image;
import io.berth.spi.images.Reference;
import io.berth.spi.images.RegistryClient;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.zip.Deflater;
import org.apache.commons.compress.compressors.gzip.GzipParameters;

/**
 * {@code docker pull} and {@code docker push} through the registry client. The transfer itself runs without the
 * store's lock (blobs are content addressed), and so does compressing the layers to push; storing the pulled image,
 * reading the image to push and recording its compressed layers take {@code lock}, the image store's.
 */
final class RegistryTransfer {

    private static final System.Logger LOG = System.getLogger("berth.images");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Layers compressed at once for a push: one per core, and two at least so that reading overlaps compressing. */
    private static final int COMPRESSORS = Math.max(2, Runtime.getRuntime().availableProcessors());
    /**
     * The gzip level of pushed layers. zlib's level 1 compresses text three times as fast as its default (6) for
     * 14-25 % more bytes; on incompressible data both are equally slow (measured with this JDK's zlib: python3.11's
     * tree 132 vs 44 MB/s to 32.6 vs 28.7 %, /usr/include 200 vs 66 MB/s to 22.0 vs 17.6 %, random bytes 65 vs
     * 63 MB/s). Compressing is what a push to a nearby registry waits for, so speed wins.
     */
    private static final int GZIP_LEVEL = 1;
    /** A layer is judged by this many samples of {@link #SAMPLE_SIZE} bytes spread evenly over its tar. */
    private static final int SAMPLES = 8;
    private static final int SAMPLE_SIZE = 1 << 16;

    private final Object lock;
    private final ImageIndex index;
    private final ContentStore content;
    private final ImageLayers imageLayers;
    private final Supplier<RegistryClient> registry;

    /** @param registry the registry client in use; it may give {@code null} when none is running */
    RegistryTransfer(Object lock, ImageIndex index, ContentStore content, ImageLayers imageLayers,
                     Supplier<RegistryClient> registry) {
        this.lock = lock;
        this.index = index;
        this.content = content;
        this.imageLayers = imageLayers;
        this.registry = registry;
    }

    private RegistryClient client() throws IOException {
        RegistryClient client = registry.get();
        if (client == null) {
            throw new IOException("no registry client is running");
        }
        return client;
    }

    /**
     * Pulls an image, unpacking each layer as soon as it and the ones below it are downloaded (see
     * {@link PulledLayers}); the store's lock is taken per layer, and to store the image at the end.
     */
    Image pull(String reference, String platform, RegistryClient.Credentials credentials,
                      Consumer<RegistryClient.Progress> progress) throws IOException {
        RegistryClient client = client();
        Reference ref = Reference.parse(reference);
        Consumer<RegistryClient.Progress> progressOrNone = progress == null ? p -> { } : progress;
        // The client reports "Digest: ..." when its downloads end; dockerd reports it once the layers are unpacked
        // too, so it is held back until the image is stored.
        List<RegistryClient.Progress> digest = new ArrayList<>();
        Consumer<RegistryClient.Progress> events = event -> {
            if (event.id() != null && event.status().startsWith("Digest: ")) {
                digest.add(event);
            } else {
                progressOrNone.accept(event);
            }
        };
        PulledLayers layers = new PulledLayers(lock, index, content, imageLayers, ref, events);
        RegistryClient.Pulled pulled;
        try {
            pulled = client.pull(ref, platform, credentials, events, layers);
        } catch (IOException | RuntimeException e) {
            // The client took out the blobs it stored; the layers unpacked from them go too.
            layers.abandon();
            layers.undo(e);
            throw e;
        }
        try {
            layers.awaitUnpacked(); // without the lock: the unpacking takes it for each layer
            synchronized (lock) {
                return storePulled(ref, pulled, layers.commit(), progressOrNone, digest);
            }
        } catch (IOException | RuntimeException e) {
            synchronized (lock) {
                layers.undo(e);
                forgetPulled(pulled, e);
            }
            throw e;
        }
    }

    /** Names a pulled image, whose record {@link PulledLayers#commit} has written. Holds the lock. */
    private Image storePulled(Reference ref, RegistryClient.Pulled pulled, PulledLayers.Stored stored,
                              Consumer<RegistryClient.Progress> events, List<RegistryClient.Progress> digest)
            throws IOException {
        String id = stored.record().id();
        if (pulled.indexDigest() != null && !index.isKept(pulled.indexDigest())) {
            content.delete(pulled.indexDigest()); // the image keeps its own manifest, not the index
        }
        Repositories repos = index.repositories();
        String repoDigest = new Reference(ref.domain(), ref.path(), null,
                pulled.indexDigest() != null ? pulled.indexDigest() : pulled.manifestDigest()).toString();
        repos.references().put(repoDigest, id);
        if (ref.tag() != null) {
            String old = repos.references().put(new Reference(ref.domain(), ref.path(), ref.tag(), null).toString(), id);
            if (old != null && !old.equals(id)) {
                LOG.log(System.Logger.Level.INFO, "The image " + familiar(ref) + " now points at " + id
                        + " instead of " + old);
            }
        }
        index.writeRepositories(repos);
        digest.forEach(events);
        events.accept(new RegistryClient.Progress(null, (stored.known() ? "Status: Image is up to date for "
                : "Status: Downloaded newer image for ") + familiar(ref), -1, -1));
        return ImageIndex.toImage(stored.record(), index.namesById().getOrDefault(id, List.of()));
    }

    /** After a refused pull: drops the blobs it fetched that nothing kept refers to. */
    private void forgetPulled(RegistryClient.Pulled pulled, Exception e) {
        List<String> fetched = new ArrayList<>();
        fetched.add(pulled.configDigest());
        fetched.add(pulled.manifestDigest());
        fetched.add(pulled.indexDigest());
        pulled.layers().forEach(blob -> fetched.add(blob.digest()));
        try {
            for (String digest : fetched) {
                if (digest != null && Digests.ID.matcher(digest).matches() && !index.isKept(digest)) {
                    content.delete(digest);
                }
            }
        } catch (IOException | RuntimeException again) {
            e.addSuppressed(again);
        }
    }

    String push(String name, RegistryClient.Credentials credentials,
                       Consumer<RegistryClient.Progress> progress) throws IOException {
        RegistryClient client = client();
        Reference ref = ImageIndex.parseReference(name);
        if (ref == null) {
            throw new IllegalArgumentException("cannot push " + name + ": push needs a repository name, not an image id");
        }
        if (ref.digest() != null) {
            throw new IllegalArgumentException("cannot push " + name + ": a digest reference cannot be pushed to");
        }
        ImageRecord record;
        synchronized (lock) {
            String id = index.repositories().references().get(ref.toString());
            record = id == null ? null : index.read(id);
            if (record == null) {
                throw new NoSuchElementException("An image does not exist locally with the tag: " + familiar(ref));
            }
        }
        // Compressing takes seconds for a large image: it runs without the lock, so the store stays usable
        // meanwhile; the image may be removed meanwhile too, which recordManifest notices.
        List<String> written = new ArrayList<>();
        byte[] manifest;
        try {
            Map<String, String> compressed = compressLayers(record, written);
            synchronized (lock) {
                manifest = recordManifest(record.id(), familiar(ref), compressed);
            }
        } catch (IOException | RuntimeException e) {
            synchronized (lock) {
                forgetCompressed(written, e);
                if (index.read(record.id()) == null && !(e instanceof NoSuchElementException)) {
                    throw (NoSuchElementException) removedWhileCompressing(familiar(ref), record.id()).initCause(e);
                }
            }
            throw e;
        }
        String digest = client.push(ref, manifest, Manifests.OCI_MANIFEST, credentials, progress);
        synchronized (lock) {
            if (index.read(record.id()) != null) {
                Repositories repos = index.repositories();
                repos.references().put(new Reference(ref.domain(), ref.path(), null, digest).toString(), record.id());
                index.writeRepositories(repos);
            }
        }
        return digest;
    }

    /**
     * Every layer's gzip blob (diff id to blob digest): the one the image keeps if it is still stored, else the
     * layer's tar compressed now, {@link #COMPRESSORS} layers at a time, straight into the content store.
     *
     * @param written gets the digest of every blob compressed here, also when this fails
     */
    private Map<String, String> compressLayers(ImageRecord record, List<String> written) throws IOException {
        Map<String, String> compressed = new TreeMap<>();
        Map<String, Future<String>> compressing = new LinkedHashMap<>();
        ExecutorService pool = null;
        try {
            for (String diffId : record.diffIds()) {
                String gzipped = record.compressed().get(diffId);
                if (gzipped != null && content.exists(gzipped)) {
                    compressed.put(diffId, gzipped);
                } else if (!compressing.containsKey(diffId)) { // an image may hold the same layer twice
                    if (!content.exists(diffId)) {
                        throw new IOException("cannot push image " + record.id() + ": the content of layer " + diffId
                                + " was not kept");
                    }
                    if (pool == null) {
                        pool = Executors.newFixedThreadPool(COMPRESSORS, RegistryTransfer::compressorThread);
                    }
                    compressing.put(diffId, pool.submit(() -> gzipBlob(diffId)));
                }
            }
            for (Map.Entry<String, Future<String>> layer : compressing.entrySet()) {
                String gzipped = await(layer.getValue(), record.id(), layer.getKey());
                written.add(gzipped);
                compressed.put(layer.getKey(), gzipped);
            }
            return compressed;
        } finally {
            if (pool != null) {
                stop(pool);
                // After a failure: the compressions that stored their blob before they were stopped.
                for (Future<String> compression : compressing.values()) {
                    String gzipped = storedBlob(compression);
                    if (gzipped != null && !written.contains(gzipped)) {
                        written.add(gzipped);
                    }
                }
            }
        }
    }

    private static Thread compressorThread(Runnable task) {
        Thread thread = new Thread(task, "berth-push-gzip");
        thread.setDaemon(true);
        return thread;
    }

    /** A compression's blob digest, or its failure as an IOException that names the layer. */
    private static String await(Future<String> compression, String id, String diffId) throws IOException {
        try {
            return compression.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while compressing layer " + diffId + " of image " + id);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw new IOException("cannot push image " + id + ": compressing layer " + diffId + " failed: "
                    + cause.getMessage(), cause);
        }
    }

    /** The blob a finished compression stored, or null. */
    private static String storedBlob(Future<String> compression) {
        if (!compression.isDone() || compression.isCancelled()) {
            return null;
        }
        try {
            return compression.get();
        } catch (ExecutionException | InterruptedException e) {
            return null;
        }
    }

    /**
     * Stops the compressions, interrupting those still running, and waits until none runs any more, so that no blob
     * gets stored behind the caller's back.
     */
    private static void stop(ExecutorService pool) throws IOException {
        pool.shutdownNow();
        try {
            while (!pool.awaitTermination(1, TimeUnit.SECONDS)) {
                LOG.log(System.Logger.Level.DEBUG, "waiting for layer compression to stop");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while stopping layer compression");
        }
    }

    /**
     * The OCI manifest an image is pushed with, stored in the content store and recorded with the layers' gzip blobs
     * in the image's record (so the next push finds them); fails if the image or one of those blobs was removed
     * while the layers were compressed. Holds the lock.
     */
    private byte[] recordManifest(String id, String name, Map<String, String> compressed) throws IOException {
        ImageRecord record = index.read(id);
        if (record == null) {
            throw removedWhileCompressing(name, id);
        }
        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", Manifests.OCI_MANIFEST);
        manifest.set("config", Manifests.descriptor(Manifests.OCI_CONFIG, record.id(), content.size(record.id())));
        ArrayNode layerDescriptors = manifest.putArray("layers");
        for (String diffId : record.diffIds()) {
            String gzipped = compressed.get(diffId);
            long size = content.size(gzipped);
            if (size < 0) {
                throw new IOException("cannot push " + name + ": the compressed layer " + gzipped
                        + " was removed while the layers were compressed; push again");
            }
            layerDescriptors.add(Manifests.descriptor(Manifests.OCI_LAYER + "+gzip", gzipped, size));
        }
        byte[] bytes = JSON.writeValueAsBytes(manifest);
        String digest = content.write(new ByteArrayInputStream(bytes), Digests.sha256(bytes), bytes.length);
        index.write(record.with(compressed, digest));
        return bytes;
    }

    private static NoSuchElementException removedWhileCompressing(String name, String id) {
        return new NoSuchElementException("cannot push " + name + ": the image " + id
                + " was removed while its layers were compressed");
    }

    /** After a failed push: drops the blobs it compressed that no image keeps. Holds the lock. */
    private void forgetCompressed(List<String> written, Exception e) {
        try {
            for (String digest : written) {
                if (!index.isKept(digest)) {
                    content.delete(digest);
                }
            }
        } catch (IOException | RuntimeException again) {
            e.addSuppressed(again);
        }
    }

    /**
     * Gzips a kept layer tar into the content store, deterministically (no name, time 0, fixed level and OS byte), so
     * the same tar always gives the same blob and a registry that has it is not sent it again.
     */
    private String gzipBlob(String diffId) throws IOException {
        try (InputStream gzip = new GzippingInputStream(content.read(diffId), gzipParameters(levelFor(diffId)))) {
            return content.write(gzip, null, -1);
        }
    }

    /**
     * The zlib level for a layer: 0 (stored: gzip framing and CRC only) when samples spread over its tar do not
     * shrink by 2 % at {@link #GZIP_LEVEL}, else that level. Deflating random or already compressed content (media,
     * archives, model weights) runs at ~65 MB/s and saves nothing; storing it runs at memory speed. The choice
     * depends on the tar alone, so the same tar still gives the same blob.
     */
    private int levelFor(String diffId) throws IOException {
        long size = content.size(diffId);
        if (size <= (long) SAMPLES * SAMPLE_SIZE) {
            return GZIP_LEVEL; // quick to compress whatever it holds
        }
        byte[] sample = new byte[SAMPLE_SIZE];
        byte[] output = new byte[SAMPLE_SIZE];
        long sampled = 0;
        long deflated = 0;
        Deflater deflater = new Deflater(GZIP_LEVEL, true);
        try (InputStream tar = content.read(diffId)) {
            long position = 0;
            for (int i = 0; i < SAMPLES; i++) {
                long offset = (size - SAMPLE_SIZE) * i / (SAMPLES - 1);
                tar.skipNBytes(offset - position);
                int n = tar.readNBytes(sample, 0, SAMPLE_SIZE);
                position = offset + n;
                deflater.reset();
                deflater.setInput(sample, 0, n);
                deflater.finish();
                while (!deflater.finished()) {
                    deflated += deflater.deflate(output);
                }
                sampled += n;
            }
        } finally {
            deflater.end();
        }
        return deflated * 100 > sampled * 98 ? 0 : GZIP_LEVEL;
    }

    private static GzipParameters gzipParameters(int level) {
        GzipParameters parameters = new GzipParameters();
        parameters.setCompressionLevel(level);
        parameters.setModificationTime(0);
        parameters.setOperatingSystem(255); // "unknown", as Go's compress/gzip writes it
        parameters.setBufferSize(1 << 16);
        return parameters;
    }
}
