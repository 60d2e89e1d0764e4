package io.berth.images;

import static io.berth.images.ImageIndex.familiar;
import static io.berth.images.ImageIndex.noSuchImage;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.images.ArchiveReader.Candidate;
import io.berth.images.ImageIndex.ImageRecord;
import io.berth.images.ImageIndex.Repositories;
import io.berth.images.ImageLayers.TarSource;
import io.berth.images.ImageLayers.Unpacking;
import io.berth.spi.images.ContentStore;
import io.berth.spi.images.Image;
import io.berth.spi.images.ImageDiskUsage;
import io.berth.spi.images.ImageHistory;
import io.berth.spi.images.ImagePruneReport;
import io.berth.spi.images.ImageStore;
import io.berth.spi.images.ImageUsers;
import io.berth.spi.images.Layer;
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
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Images and their names on disk, as Docker keeps them: records and names in an {@link ImageIndex}, configs
 * and layer tars in the {@link ContentStore}, unpacked layers in the {@link LayerStore} (through
 * {@link ImageLayers}). Archives are read by {@link ArchiveReader} and written by {@link ArchiveWriter}; pull
 * and push are {@link RegistryTransfer}'s, import {@link RootfsImport}'s, history, inspect and disk usage
 * {@link ImageReports}'. This class holds the lock and Docker's rules for names: tag, rmi (untag vs delete, and
 * the refusals while {@link ImageUsers} say a container uses the image) and prune.
 *
 * <p>Errors: an unknown image is a {@link NoSuchElementException} ("No such image: ..."), an ambiguous
 * id prefix or a bad name an {@link IllegalArgumentException}, a refused deletion an
 * {@link IllegalStateException} starting with "conflict:", a malformed or hostile archive an
 * {@link IOException} saying what is wrong.
 */
public final class FileImageStore implements ImageStore {

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    private static final System.Logger LOG = System.getLogger("berth.images");

    private final Path tmp;
    private final ContentStore content;
    private final LayerStore layers;
    private final ImageIndex index;
    private final ImageLayers imageLayers;
    private final ArchiveWriter archiveWriter;
    private final RegistryTransfer transfer;
    private final ImageReports reports;
    private final ImageUsers users;

    public FileImageStore(Path root, ContentStore content, LayerStore layers) throws IOException {
        this(root, content, layers, () -> null);
    }

    /**
     * @param registry the registry client in use for pull and push; it may give {@code null} when none is running
     */
    public FileImageStore(Path root, ContentStore content, LayerStore layers, Supplier<RegistryClient> registry)
            throws IOException {
        this(root, content, layers, registry, imageId -> List.of());
    }

    /**
     * @param registry the registry client in use for pull and push; it may give {@code null} when none is running
     * @param users    the containers that use images (every registered {@link ImageUsers} service together)
     */
    public FileImageStore(Path root, ContentStore content, LayerStore layers, Supplier<RegistryClient> registry,
                          ImageUsers users) throws IOException {
        this.users = users;
        Path dir = Files.createDirectories(root).toAbsolutePath();
        this.tmp = dir.resolve("tmp");
        this.content = content;
        this.layers = layers;
        if (Files.exists(tmp)) {
            DiskFiles.deleteTree(tmp); // what an interrupted load left
        }
        this.index = new ImageIndex(dir);
        this.imageLayers = new ImageLayers(content, layers);
        this.archiveWriter = new ArchiveWriter(index, content, imageLayers);
        this.transfer = new RegistryTransfer(this, index, content, imageLayers,
                registry == null ? () -> null : registry);
        this.reports = new ImageReports(index, content, layers, users);
        forgetUnfinished();
    }

    /**
     * Undoes what a pull or load cut short by a crash left behind: layer references no image holds (released,
     * which removes the layers) and blobs no image refers to (deleted). What cannot be undone now, e.g. because
     * its storage driver is not running, is logged and tried again at the next start.
     */
    private void forgetUnfinished() {
        if (layers == null) {
            return; // a store without layers (pull and push only) has nothing of the kind
        }
        try {
            // held by images as their top, by containers, or by children
            Map<String, Integer> expected = new java.util.HashMap<>();
            Set<String> kept = new TreeSet<>();
            for (ImageRecord record : index.records()) {
                if (record.top() != null) {
                    expected.merge(record.top(), 1, Integer::sum);
                }
                kept.add(record.id());
                kept.addAll(record.diffIds());
                kept.addAll(record.extraBlobs());
            }
            for (String parent : layers.readWriteParents()) {
                expected.merge(parent, 1, Integer::sum); // a container's read-write layer holds its image's top
            }
            List<Layer> all = layers.layers(); // parents before children
            all.stream().filter(l -> l.parent() != null).forEach(l -> expected.merge(l.parent(), 1, Integer::sum));
            for (int i = all.size() - 1; i >= 0; i--) { // children first
                String chainId = all.get(i).chainId();
                Layer layer = layers.get(chainId);
                for (int n = layer == null ? 0 : layer.references(); n > expected.getOrDefault(chainId, 0); n--) {
                    layers.release(chainId);
                    LOG.log(System.Logger.Level.INFO, "released layer " + chainId + ", which no image holds");
                }
                if (all.get(i).parent() != null && layers.get(chainId) == null) {
                    expected.merge(all.get(i).parent(), -1, Integer::sum); // gone, and its hold on its parent too
                }
            }
            for (String blob : content.list()) {
                if (!kept.contains(blob)) {
                    content.delete(blob);
                    LOG.log(System.Logger.Level.INFO, "deleted blob " + blob + ", which no image refers to");
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot undo what an interrupted pull or load left: " + e.getMessage(), e);
        }
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
            String id = repos.references().get(byName.toString());
            List<ImageUsers.User> using = users.usersOf(id);
            if (!force && !using.isEmpty() && isSingleReference(referencesTo(repos, id))) {
                // Untagging would leave the container's image dangling: Docker wants that forced.
                throw new IllegalStateException("conflict: unable to remove repository reference \"" + nameOrId
                        + "\" (must force) - container " + Digests.shortId(using.get(0).containerId())
                        + " is using its referenced image " + Digests.shortId(id));
            }
            repos.references().remove(byName.toString());
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
            // An image a running container uses stays (without names) when its last name is forced away, as in Docker.
            if (!repos.references().containsValue(id) && using.stream().noneMatch(ImageUsers.User::running)) {
                ImageRecord record = index.read(id);
                if (record != null) {
                    out.addAll(delete(record).lines());
                }
            }
            return out;
        }
        ImageRecord record = index.resolveId(nameOrId);
        if (record == null) {
            throw noSuchImage(nameOrId);
        }
        List<Reference> refs = referencesTo(repos, record.id());
        List<ImageUsers.User> using = users.usersOf(record.id());
        for (ImageUsers.User user : using) {
            if (user.running()) {
                throw conflict(record.id(), "cannot be forced",
                        "image is being used by running container " + Digests.shortId(user.containerId()));
            }
        }
        // Docker's rule (moby's isSingleReference): by id, one tag plus digests of its repository is deleted
        // without force; a second tag, even in the same repository, needs force.
        if (refs.size() > 1 && !isSingleReference(refs) && !force) {
            throw conflict(record.id(), "must be forced", "image is referenced in multiple repositories");
        }
        if (!using.isEmpty() && !force) {
            throw conflict(record.id(), "must be forced",
                    "image is being used by stopped container " + Digests.shortId(using.get(0).containerId()));
        }
        untagAll(repos, refs, out);
        out.addAll(delete(record).lines());
        return out;
    }

    private static IllegalStateException conflict(String id, String force, String reason) {
        return new IllegalStateException("conflict: unable to delete " + Digests.shortId(id) + " (" + force + ") - "
                + reason);
    }

    /** The names that point at an image. */
    private static List<Reference> referencesTo(Repositories repos, String id) {
        List<Reference> refs = new ArrayList<>();
        for (Map.Entry<String, String> entry : repos.references().entrySet()) {
            if (entry.getValue().equals(id)) {
                refs.add(Reference.parse(entry.getKey()));
            }
        }
        return refs;
    }

    /**
     * Docker's isSingleReference: one name, or one tag (or, without tags, the first digest) with digests all in
     * that tag's repository.
     */
    private static boolean isSingleReference(List<Reference> refs) {
        if (refs.size() <= 1) {
            return refs.size() == 1;
        }
        Reference single = null;
        Set<String> digestRepositories = new TreeSet<>();
        for (Reference ref : refs) {
            if (ref.digest() != null) {
                digestRepositories.add(ref.name());
            } else if (single == null) {
                single = ref;
            } else {
                return false;
            }
        }
        String name = (single == null ? refs.get(0) : single).name();
        return digestRepositories.size() == 1 && digestRepositories.contains(name);
    }

    private void untagAll(Repositories repos, List<Reference> refs, List<String> out) throws IOException {
        for (Reference ref : refs) {
            repos.references().remove(ref.toString());
            out.add("Untagged: " + familiar(ref));
        }
        if (!refs.isEmpty()) {
            index.writeRepositories(repos);
        }
    }

    @Override
    public synchronized List<String> prune() throws IOException {
        List<String> ids = new ArrayList<>();
        prune(false, ids);
        return ids;
    }

    @Override
    public synchronized ImagePruneReport prune(boolean all) throws IOException {
        return prune(all, new ArrayList<>());
    }

    /** Docker's image prune: dangling images, or with {@code all} every image; never one a container uses. */
    private ImagePruneReport prune(boolean all, List<String> deletedIds) throws IOException {
        Repositories repos = index.repositories();
        List<String> out = new ArrayList<>();
        long reclaimed = 0;
        for (ImageRecord record : index.records()) {
            List<Reference> refs = referencesTo(repos, record.id());
            if ((!all && !refs.isEmpty()) || !users.usersOf(record.id()).isEmpty()) {
                continue;
            }
            untagAll(repos, refs, out);
            Deletion deletion = delete(record);
            out.addAll(deletion.lines());
            reclaimed += deletion.reclaimed();
            deletedIds.add(record.id());
        }
        return new ImagePruneReport(out, reclaimed);
    }

    /** What deleting an image did: Docker's "Deleted: ..." lines, and the bytes of the layers that went. */
    private record Deletion(List<String> lines, long reclaimed) {
    }

    /** Deletes an image that has no names left: its record, its top layer reference, unshared blobs. */
    private Deletion delete(ImageRecord record) throws IOException {
        List<String> out = new ArrayList<>();
        long reclaimed = 0;
        index.delete(record.id());
        out.add("Deleted: " + record.id());
        if (record.top() != null) {
            Map<String, Long> sizes = new TreeMap<>();
            for (String chainId : record.layers()) {
                Layer layer = layers.get(chainId);
                sizes.put(chainId, layer == null ? 0 : layer.size());
            }
            layers.release(record.top());
            for (int i = record.layers().size() - 1; i >= 0; i--) {
                if (layers.get(record.layers().get(i)) == null) {
                    out.add("Deleted: " + record.layers().get(i));
                    reclaimed += sizes.get(record.layers().get(i));
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
        return new Deletion(out, reclaimed);
    }

    // ---------------------------------------------------------------- import

    @Override
    public Image importImage(InputStream rootfs, String reference, String message, List<String> changes)
            throws IOException {
        List<Reference> names = newImageNames(reference, "import");
        ObjectNode containerConfig = RootfsImport.changes(changes); // bad changes are refused before any reading
        Files.createDirectories(tmp);
        Path file = Files.createTempFile(tmp, "import-", ".tar");
        try {
            // Spooled without the lock: reading the stream may take long, and nothing is stored yet.
            String diffId = RootfsImport.spool(rootfs, file);
            Instant created = Instant.now();
            byte[] config = RootfsImport.config(diffId, message, containerConfig, created);
            Candidate candidate = new Candidate(Digests.sha256(config), config, List.of(file), List.of(diffId), names,
                    created.toString());
            synchronized (this) {
                return commit(List.of(candidate)).get(0);
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** The name a new image gets ({@code import}, {@code commit}): none, or one without a digest. */
    private static List<Reference> newImageNames(String reference, String verb) {
        if (reference == null || reference.isBlank()) {
            return List.of();
        }
        Reference name = Reference.parse(reference);
        if (name.digest() != null) {
            throw new IllegalArgumentException("cannot " + verb + " as " + reference + ": a digest reference names"
                    + " content, it cannot be given to a new image");
        }
        return List.of(name);
    }

    // ---------------------------------------------------------------- commit

    @Override
    public Image commit(String parentId, InputStream layer, io.berth.spi.containers.ContainerConfig config,
                        io.berth.spi.containers.CommitRequest request, String containerId, String createdBy)
            throws IOException {
        List<Reference> names = newImageNames(request.reference(), "commit");
        // Bad changes are refused before anything is read.
        ObjectNode imageConfig = ImageChanges.apply(JSON.valueToTree(config),
                request.changes() == null ? List.of() : request.changes());
        Files.createDirectories(tmp);
        Path file = Files.createTempFile(tmp, "commit-", ".tar");
        try {
            String diffId = RootfsImport.spool(layer, file); // without the lock: the tar may be large
            Instant created = Instant.now();
            synchronized (this) {
                ImageRecord parent = parentId == null ? null : index.require(parentId);
                ObjectNode image = parent == null ? JSON.createObjectNode()
                        : (ObjectNode) JSON.readTree(config(parent.id()));
                if (parent == null) {
                    Manifests.Platform host = Manifests.Platform.host();
                    image.put("architecture", host.architecture());
                    image.put("os", host.os());
                }
                image.put("created", created.toString());
                image.put("container", containerId);
                image.set("config", imageConfig);
                putOrRemove(image, "author", request.author());
                putOrRemove(image, "comment", request.comment());
                ObjectNode history = (image.has("history") ? (com.fasterxml.jackson.databind.node.ArrayNode)
                        image.get("history") : image.putArray("history")).addObject();
                history.put("created", created.toString());
                history.put("created_by", createdBy);
                putOrRemove(history, "author", request.author());
                putOrRemove(history, "comment", request.comment());
                ObjectNode rootfs = image.has("rootfs") ? (ObjectNode) image.get("rootfs") : image.putObject("rootfs");
                rootfs.put("type", "layers");
                (rootfs.has("diff_ids") ? (com.fasterxml.jackson.databind.node.ArrayNode) rootfs.get("diff_ids")
                        : rootfs.putArray("diff_ids")).add(diffId);
                byte[] bytes = JSON.writeValueAsBytes(image);
                List<String> diffIds = new ArrayList<>(parent == null ? List.of() : parent.diffIds());
                List<TarSource> tars = new ArrayList<>();
                for (String parentDiffId : diffIds) {
                    tars.add(() -> imageLayers.openTar(parent, parentDiffId)); // its layers exist: not unpacked again
                }
                diffIds.add(diffId);
                tars.add(() -> new BufferedInputStream(Files.newInputStream(file)));
                Candidate candidate = new Candidate(Digests.sha256(bytes), bytes, List.of(), diffIds, names,
                        created.toString());
                return store(List.of(candidate), List.of(tars)).get(0);
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private static void putOrRemove(ObjectNode node, String field, String value) {
        if (value == null || value.isEmpty()) {
            node.remove(field);
        } else {
            node.put(field, value);
        }
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

    /** Stores verified images whose layers are files (load, import): see {@link #store}. */
    private List<Image> commit(List<Candidate> candidates) throws IOException {
        List<List<TarSource>> tars = new ArrayList<>();
        for (Candidate candidate : candidates) {
            List<TarSource> layerTars = new ArrayList<>();
            for (Path file : candidate.layerFiles()) {
                layerTars.add(() -> LayerCompression.decompressed(new BufferedInputStream(Files.newInputStream(file))));
            }
            tars.add(layerTars);
        }
        return store(candidates, tars);
    }

    /** Stores verified images: blobs, layers, then records and names. On failure nothing stays. */
    private List<Image> store(List<Candidate> candidates, List<List<TarSource>> tars) throws IOException {
        List<String> newBlobs = new ArrayList<>();
        List<String> heldTops = new ArrayList<>();
        List<ImageRecord> records = new ArrayList<>();
        try {
            for (int i = 0; i < candidates.size(); i++) {
                Candidate candidate = candidates.get(i);
                imageLayers.writeBlob(new java.io.ByteArrayInputStream(candidate.config()), candidate.id(), newBlobs);
                records.add(imageLayers.register(candidate.id(), candidate.created(), tars.get(i),
                        candidate.diffIds(), newBlobs, heldTops, Unpacking.NONE));
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

    // ---------------------------------------------------------------- reports

    @Override
    public synchronized List<ImageHistory> history(String nameOrId) throws IOException {
        return reports.history(nameOrId);
    }

    @Override
    public synchronized byte[] inspect(String nameOrId) throws IOException {
        return reports.inspect(nameOrId);
    }

    @Override
    public synchronized ImageDiskUsage diskUsage() throws IOException {
        return reports.diskUsage(list());
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
