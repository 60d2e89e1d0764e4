package io.berth.images;

import static io.berth.images.ImageIndex.familiar;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.images.ImageIndex.ImageRecord;
import io.berth.images.ImageIndex.Repositories;
import io.berth.images.ImageLayers.TarSource;
import io.berth.images.ImageLayers.Unpacking;
import io.berth.spi.images.ContentStore;
import io.berth.spi.images.Image;
import io.berth.spi.images.Reference;
import io.berth.spi.images.RegistryClient;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipParameters;

/**
 * {@code docker pull} and {@code docker push} through the registry client. The transfer itself runs without the
 * store's lock (blobs are content addressed); storing the pulled image and reading the image to push take
 * {@code lock}, the image store's.
 */
final class RegistryTransfer {

    private static final System.Logger LOG = System.getLogger("berth.images");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Object lock;
    private final ImageIndex index;
    private final ContentStore content;
    private final ImageLayers imageLayers;
    private final Supplier<RegistryClient> registry;
    private final Path tmp;

    /**
     * @param registry the registry client in use; it may give {@code null} when none is running
     * @param tmp      where compressed layers are written before they go into the content store
     */
    RegistryTransfer(Object lock, ImageIndex index, ContentStore content, ImageLayers imageLayers,
                     Supplier<RegistryClient> registry, Path tmp) {
        this.lock = lock;
        this.index = index;
        this.content = content;
        this.imageLayers = imageLayers;
        this.registry = registry;
        this.tmp = tmp;
    }

    private RegistryClient client() throws IOException {
        RegistryClient client = registry.get();
        if (client == null) {
            throw new IOException("no registry client is running");
        }
        return client;
    }

    Image pull(String reference, String platform, RegistryClient.Credentials credentials,
                      Consumer<RegistryClient.Progress> progress) throws IOException {
        RegistryClient client = client();
        Reference ref = Reference.parse(reference);
        Consumer<RegistryClient.Progress> events = progress == null ? p -> { } : progress;
        // The download runs without the store's lock: blobs are content addressed, nothing else changes.
        RegistryClient.Pulled pulled = client.pull(ref, platform, credentials, events);
        return commitPulled(ref, pulled, events);
    }

    private Image commitPulled(Reference ref, RegistryClient.Pulled pulled,
                               Consumer<RegistryClient.Progress> events) throws IOException {
        synchronized (lock) {
            try {
                return storePulled(ref, pulled, events);
            } catch (IOException | RuntimeException e) {
                forgetPulled(pulled, e);
                throw e;
            }
        }
    }

    private Image storePulled(Reference ref, RegistryClient.Pulled pulled, Consumer<RegistryClient.Progress> events)
            throws IOException {
        String id = pulled.configDigest();
        if (id == null || !Digests.ID.matcher(id).matches()) {
            throw new IOException("manifest " + pulled.manifestDigest() + " of " + ref + " has no valid config digest");
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
        List<RegistryClient.Blob> blobs = pulled.layers();
        if (diffIdNodes.size() != blobs.size()) {
            throw new IOException("manifest " + pulled.manifestDigest() + " of " + ref + " lists " + blobs.size()
                    + " layers but config " + id + " has " + diffIdNodes.size() + " diff_ids");
        }
        List<String> diffIds = new ArrayList<>();
        Map<String, String> compressed = new TreeMap<>();
        List<TarSource> tars = new ArrayList<>();
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

        ImageRecord known = index.read(id);
        if (known == null) {
            verifyKeptLayers(blobs, diffIds, tars);
        }
        ImageRecord record;
        if (known != null) {
            record = known.with(compressed, pulled.manifestDigest());
        } else {
            List<String> newBlobs = new ArrayList<>();
            List<String> heldTops = new ArrayList<>();
            try {
                record = imageLayers.register(id, root.path("created").asText(""), tars, diffIds, newBlobs, heldTops,
                        new Unpacking() {
                            @Override
                            public void extracting(int index) {
                                events.accept(new RegistryClient.Progress(Digests.shortDigest(blobs.get(index).digest()),
                                        "Extracting", -1, -1));
                            }

                            @Override
                            public void done(int index) {
                                events.accept(new RegistryClient.Progress(Digests.shortDigest(blobs.get(index).digest()),
                                        "Pull complete", -1, -1));
                            }
                        }).with(compressed, pulled.manifestDigest());
                index.write(record);
            } catch (IOException | RuntimeException e) {
                imageLayers.undo(e, heldTops, newBlobs);
                throw e;
            }
        }
        if (known != null) {
            index.write(record);
        }
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
        // The registry client has reported "Digest: ..." already.
        events.accept(new RegistryClient.Progress(null, (known != null ? "Status: Image is up to date for "
                : "Status: Downloaded newer image for ") + familiar(ref), -1, -1));
        return ImageIndex.toImage(record, index.namesById().getOrDefault(id, List.of()));
    }

    /**
     * A layer whose uncompressed tar is kept already is not read again when it is registered: unless its blob is
     * known to be that tar (compressed), check that it decompresses to the diff id the config names.
     */
    private void verifyKeptLayers(List<RegistryClient.Blob> blobs, List<String> diffIds, List<TarSource> tars)
            throws IOException {
        Set<String> knownPairs = new TreeSet<>();
        for (ImageRecord other : index.records()) {
            other.compressed().forEach((diffId, blob) -> knownPairs.add(diffId + " " + blob));
        }
        for (int i = 0; i < blobs.size(); i++) {
            String diffId = diffIds.get(i);
            String digest = blobs.get(i).digest();
            if (!content.exists(diffId) || digest.equals(diffId) || knownPairs.contains(diffId + " " + digest)) {
                continue;
            }
            String actual;
            try (InputStream tar = tars.get(i).open()) {
                actual = "sha256:" + Digests.sha256Hex(tar);
            }
            if (!actual.equals(diffId)) {
                throw new IOException("layer " + (i + 1) + " (" + digest + ") decompresses to " + actual
                        + " but the config says diff id " + diffId);
            }
        }
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
        byte[] manifest;
        String id;
        synchronized (lock) {
            id = index.repositories().references().get(ref.toString());
            ImageRecord record = id == null ? null : index.read(id);
            if (record == null) {
                throw new NoSuchElementException("An image does not exist locally with the tag: " + familiar(ref));
            }
            manifest = pushManifest(record);
        }
        String digest = client.push(ref, manifest, Manifests.OCI_MANIFEST, credentials, progress);
        synchronized (lock) {
            if (index.read(id) != null) {
                Repositories repos = index.repositories();
                repos.references().put(new Reference(ref.domain(), ref.path(), null, digest).toString(), id);
                index.writeRepositories(repos);
            }
        }
        return digest;
    }

    /**
     * The OCI manifest an image is pushed with: its config and its layers gzip-compressed (deterministically, each
     * compressed once and then reused); stores the compressed blobs and the manifest in the content store.
     */
    private byte[] pushManifest(ImageRecord record) throws IOException {
        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", Manifests.OCI_MANIFEST);
        manifest.set("config", Manifests.descriptor(Manifests.OCI_CONFIG, record.id(), content.size(record.id())));
        ArrayNode layerDescriptors = manifest.putArray("layers");
        Map<String, String> compressed = new TreeMap<>();
        for (String diffId : record.diffIds()) {
            String gzipped = record.compressed().get(diffId);
            if (gzipped == null || !content.exists(gzipped)) {
                if (!content.exists(diffId)) {
                    throw new IOException("cannot push image " + record.id() + ": the content of layer " + diffId
                            + " was not kept");
                }
                gzipped = gzipBlob(diffId);
            }
            compressed.put(diffId, gzipped);
            layerDescriptors.add(Manifests.descriptor(Manifests.OCI_LAYER + "+gzip", gzipped, content.size(gzipped)));
        }
        byte[] bytes = JSON.writeValueAsBytes(manifest);
        String digest = content.write(new java.io.ByteArrayInputStream(bytes), Digests.sha256(bytes),
                bytes.length);
        index.write(record.with(compressed, digest));
        return bytes;
    }

    /** Gzips a kept layer tar into the content store: no name, time 0, so the same tar gives the same blob. */
    private String gzipBlob(String diffId) throws IOException {
        Files.createDirectories(tmp);
        Path file = Files.createTempFile(tmp, "push-", ".tar.gz");
        try {
            GzipParameters parameters = new GzipParameters();
            parameters.setModificationTime(0);
            parameters.setOperatingSystem(255);
            try (InputStream in = content.read(diffId);
                 OutputStream out = new GzipCompressorOutputStream(Files.newOutputStream(file), parameters)) {
                in.transferTo(out);
            }
            try (InputStream in = Files.newInputStream(file)) {
                return content.write(in, "sha256:" + Digests.sha256Hex(file), Files.size(file));
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
