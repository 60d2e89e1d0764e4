package io.berth.images;

import static io.berth.images.ImageIndex.familiar;
import static io.berth.images.ImageIndex.noSuchImage;

import io.berth.images.ArchiveReader.Candidate;
import io.berth.images.ImageIndex.ImageRecord;
import io.berth.images.ImageIndex.Repositories;
import io.berth.images.ImageLayers.TarSource;
import io.berth.images.ImageLayers.Unpacking;
import io.berth.spi.images.ContentStore;
import io.berth.spi.images.Image;
import io.berth.spi.images.ImageStore;
import io.berth.spi.images.LayerStore;
import io.berth.spi.images.Reference;
import io.berth.spi.images.RegistryClient;
import io.berth.storage.support.DiskFiles;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Images and their names on disk, as Docker keeps them: records and names in an {@link ImageIndex}, configs
 * and layer tars in the {@link ContentStore}, unpacked layers in the {@link LayerStore} (through
 * {@link ImageLayers}). Archives are read by {@link ArchiveReader} and written by {@link ArchiveWriter}; pull
 * and push are {@link RegistryTransfer}'s. This class holds the lock and Docker's rules for names: tag, rmi
 * (untag vs delete) and prune.
 *
 * <p>Errors: an unknown image is a {@link NoSuchElementException} ("No such image: ..."), an ambiguous
 * id prefix or a bad name an {@link IllegalArgumentException}, a refused deletion an
 * {@link IllegalStateException} starting with "conflict:", a malformed or hostile archive an
 * {@link IOException} saying what is wrong.
 */
public final class FileImageStore implements ImageStore {

    private static final System.Logger LOG = System.getLogger("berth.images");

    private final Path tmp;
    private final ContentStore content;
    private final LayerStore layers;
    private final ImageIndex index;
    private final ImageLayers imageLayers;
    private final ArchiveWriter archiveWriter;
    private final RegistryTransfer transfer;

    public FileImageStore(Path root, ContentStore content, LayerStore layers) throws IOException {
        this(root, content, layers, () -> null);
    }

    /**
     * @param registry the registry client in use for pull and push; it may give {@code null} when none is running
     */
    public FileImageStore(Path root, ContentStore content, LayerStore layers, Supplier<RegistryClient> registry)
            throws IOException {
        Path dir = Files.createDirectories(root).toAbsolutePath();
        this.tmp = dir.resolve("tmp");
        this.content = content;
        this.layers = layers;
        if (Files.exists(tmp)) {
            DiskFiles.deleteTree(tmp); // what an interrupted load left
        }
        this.index = new ImageIndex(dir);
        this.imageLayers = new ImageLayers(content, layers);
        this.archiveWriter = new ArchiveWriter(index, content);
        this.transfer = new RegistryTransfer(this, index, content, imageLayers, registry == null ? () -> null : registry,
                tmp);
    }

    // ---------------------------------------------------------------- queries

    @Override
    public synchronized List<Image> list() throws IOException {
        Map<String, List<String>> names = index.namesById();
        List<Image> images = new ArrayList<>();
        for (ImageRecord record : index.records()) {
            images.add(ImageIndex.toImage(record, names.getOrDefault(record.id(), List.of())));
        }
        images.sort(Comparator.comparing((Image image) -> instant(image.created()), Comparator.reverseOrder())
                .thenComparing(Image::id));
        return images;
    }

    @Override
    public synchronized Image find(String nameOrId) throws IOException {
        ImageRecord record = index.resolve(nameOrId);
        return record == null ? null : ImageIndex.toImage(record, index.namesById().getOrDefault(record.id(), List.of()));
    }

    @Override
    public synchronized byte[] config(String id) throws IOException {
        ImageRecord record = index.require(id);
        try (InputStream in = content.read(record.id())) {
            return in.readAllBytes();
        }
    }

    // ---------------------------------------------------------------- names

    @Override
    public synchronized void tag(String source, String target) throws IOException {
        ImageRecord record = index.require(source);
        Reference ref = Reference.parse(target);
        if (ref.digest() != null) {
            throw new IllegalArgumentException("refusing to create a tag with a digest reference");
        }
        Repositories repos = index.repositories();
        repos.references().put(ref.toString(), record.id());
        index.writeRepositories(repos);
    }

    @Override
    public synchronized List<String> remove(String nameOrId, boolean force) throws IOException {
        Repositories repos = index.repositories();
        Reference byName = ImageIndex.parseReference(nameOrId);
        List<String> out = new ArrayList<>();
        if (byName != null && repos.references().containsKey(byName.toString())) {
            String id = repos.references().remove(byName.toString());
            out.add("Untagged: " + familiar(byName));
            // As Docker: once no tag is left, the digest references (repo@sha256:...) go too.
            boolean tagsLeft = repos.references().entrySet().stream()
                    .anyMatch(entry -> entry.getValue().equals(id) && Reference.parse(entry.getKey()).tag() != null);
            if (!tagsLeft) {
                for (String key : new ArrayList<>(repos.references().keySet())) {
                    if (repos.references().get(key).equals(id)) {
                        repos.references().remove(key);
                        out.add("Untagged: " + familiar(Reference.parse(key)));
                    }
                }
            }
            index.writeRepositories(repos);
            if (!repos.references().containsValue(id)) {
                ImageRecord record = index.read(id);
                if (record != null) {
                    out.addAll(delete(record));
                }
            }
            return out;
        }
        ImageRecord record = index.resolveId(nameOrId);
        if (record == null) {
            throw noSuchImage(nameOrId);
        }
        List<Reference> refs = new ArrayList<>();
        for (Map.Entry<String, String> entry : repos.references().entrySet()) {
            if (entry.getValue().equals(record.id())) {
                refs.add(Reference.parse(entry.getKey()));
            }
        }
        long repositories = refs.stream().map(Reference::name).distinct().count();
        if (repositories > 1 && !force) {
            throw new IllegalStateException("conflict: unable to delete " + Digests.shortId(record.id())
                    + " (must be forced) - image is referenced in multiple repositories");
        }
        for (Reference ref : refs) {
            repos.references().remove(ref.toString());
            out.add("Untagged: " + familiar(ref));
        }
        if (!refs.isEmpty()) {
            index.writeRepositories(repos);
        }
        out.addAll(delete(record));
        return out;
    }

    @Override
    public synchronized List<String> prune() throws IOException {
        Set<String> named = new TreeSet<>(index.repositories().references().values());
        List<String> deleted = new ArrayList<>();
        for (ImageRecord record : index.records()) {
            if (!named.contains(record.id())) {
                delete(record);
                deleted.add(record.id());
            }
        }
        return deleted;
    }

    /** Deletes an image that has no names left: its record, its top layer reference, unshared blobs. */
    private List<String> delete(ImageRecord record) throws IOException {
        List<String> out = new ArrayList<>();
        index.delete(record.id());
        out.add("Deleted: " + record.id());
        if (record.top() != null) {
            layers.release(record.top());
            for (int i = record.layers().size() - 1; i >= 0; i--) {
                if (layers.get(record.layers().get(i)) == null) {
                    out.add("Deleted: " + record.layers().get(i));
                }
            }
        }
        Set<String> stillUsed = new TreeSet<>();
        for (ImageRecord other : index.records()) {
            stillUsed.add(other.id());
            stillUsed.addAll(other.diffIds());
            stillUsed.addAll(other.extraBlobs());
        }
        List<String> blobs = new ArrayList<>(record.diffIds());
        blobs.add(record.id());
        blobs.addAll(record.extraBlobs());
        for (String blob : blobs) {
            if (!stillUsed.contains(blob)) {
                content.delete(blob);
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- load

    @Override
    public synchronized List<Image> load(InputStream archive) throws IOException {
        Files.createDirectories(tmp);
        Path spool = Files.createTempDirectory(tmp, "load-");
        try {
            return commit(ArchiveReader.read(archive, spool));
        } finally {
            DiskFiles.deleteTree(spool);
        }
    }

    /** Stores verified images: blobs, layers, then records and names. On failure nothing stays. */
    private List<Image> commit(List<Candidate> candidates) throws IOException {
        List<String> newBlobs = new ArrayList<>();
        List<String> heldTops = new ArrayList<>();
        List<ImageRecord> records = new ArrayList<>();
        try {
            for (Candidate candidate : candidates) {
                imageLayers.writeBlob(new java.io.ByteArrayInputStream(candidate.config()), candidate.id(), newBlobs);
                List<TarSource> tars = new ArrayList<>();
                for (Path file : candidate.layerFiles()) {
                    tars.add(() -> LayerCompression.decompressed(new BufferedInputStream(Files.newInputStream(file))));
                }
                records.add(imageLayers.register(candidate.id(), candidate.created(), tars, candidate.diffIds(),
                        newBlobs, heldTops, Unpacking.NONE));
            }
        } catch (IOException | RuntimeException e) {
            imageLayers.undo(e, heldTops, newBlobs);
            throw e;
        }
        Repositories repos = index.repositories();
        List<String> loadedIds = new ArrayList<>();
        for (ImageRecord record : records) {
            if (index.read(record.id()) != null) {
                if (record.top() != null) {
                    layers.release(record.top()); // the image has its reference already
                }
            } else {
                index.write(record);
            }
            loadedIds.add(record.id());
        }
        for (Candidate candidate : candidates) {
            for (Reference name : candidate.names()) {
                String old = repos.references().put(name.toString(), candidate.id());
                if (old != null && !old.equals(candidate.id())) {
                    LOG.log(System.Logger.Level.INFO, "The image " + familiar(name) + " already exists, renaming the"
                            + " old one with ID " + old + " to empty string");
                }
            }
        }
        index.writeRepositories(repos);
        Map<String, List<String>> names = index.namesById();
        List<Image> result = new ArrayList<>();
        for (String id : new LinkedHashSet<>(loadedIds)) {
            result.add(ImageIndex.toImage(index.read(id), names.getOrDefault(id, List.of())));
        }
        return result;
    }

    // ---------------------------------------------------------------- save

    @Override
    public synchronized void save(List<String> namesOrIds, OutputStream out) throws IOException {
        archiveWriter.save(namesOrIds, out);
    }

    // ---------------------------------------------------------------- pull and push

    @Override
    public Image pull(String reference, String platform, RegistryClient.Credentials credentials,
                      Consumer<RegistryClient.Progress> progress) throws IOException {
        return transfer.pull(reference, platform, credentials, progress);
    }

    @Override
    public String push(String name, RegistryClient.Credentials credentials,
                       Consumer<RegistryClient.Progress> progress) throws IOException {
        return transfer.push(name, credentials, progress);
    }

    private static java.time.Instant instant(String created) {
        try {
            return java.time.OffsetDateTime.parse(created).toInstant();
        } catch (java.time.DateTimeException e) {
            return java.time.Instant.MIN;
        }
    }
}
