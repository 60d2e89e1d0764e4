package io.berth.images;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.spi.images.ContentStore;
import io.berth.spi.images.Image;
import io.berth.spi.images.ImageStore;
import io.berth.spi.images.Layer;
import io.berth.spi.images.LayerStore;
import io.berth.spi.images.Reference;
import io.berth.spi.images.RegistryClient;
import io.berth.storage.support.DiskFiles;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipParameters;

/**
 * Images and their names on disk, as Docker keeps them:
 * <ul>
 * <li>{@code <root>/imagedb/<id hex>.json}: one record per image (its layer chain ids and diff ids, its
 *     size and creation time); the image's config is a blob in the {@link ContentStore}, and the id is
 *     {@code sha256:} of that config;</li>
 * <li>{@code <root>/repositories.json}: every name (normalised reference, with a tag or a digest)
 *     and the image id it points at, like Docker's reference store.</li>
 * </ul>
 * Every file is written atomically (temporary file, fsync, rename, directory fsync).
 *
 * <p><b>Layer references.</b> An image holds exactly one reference in the {@link LayerStore}: on its
 * top layer. The layer store's parent references keep the rest of the chain, so deleting an image
 * releases its top layer once and the chain goes away with it unless something else uses it.
 *
 * <p><b>Layer content.</b> The layer store cannot give a layer's tar back, so {@link #load} keeps each
 * layer's uncompressed tar as a blob in the content store, keyed by its diff id; {@link #save} writes
 * those blobs. An image whose layer tars were not kept (none at present) cannot be saved. Blobs go
 * when no image refers to them any more.
 *
 * <p>Errors: an unknown image is a {@link NoSuchElementException} ("No such image: ..."), an ambiguous
 * id prefix or a bad name an {@link IllegalArgumentException}, a refused deletion an
 * {@link IllegalStateException} starting with "conflict:", a malformed or hostile archive an
 * {@link IOException} saying what is wrong.
 */
public final class FileImageStore implements ImageStore {

    private static final System.Logger LOG = System.getLogger("berth.images");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern ID = Pattern.compile("sha256:[0-9a-f]{64}");
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern HEX_PREFIX = Pattern.compile("(?:sha256:)?[0-9a-f]{4,64}");
    private static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";
    private static final String CONTAINERD_NAME = "io.containerd.image.name";
    private static final String OCI_REF_NAME = "org.opencontainers.image.ref.name";

    /** What {@code imagedb/<hex>.json} holds. */
    record ImageRecord(String id, List<String> layers, List<String> diffIds, String created, long size,
                       Map<String, String> compressed, List<String> manifests) {
        ImageRecord {
            compressed = compressed == null ? Map.of() : Map.copyOf(compressed);
            manifests = manifests == null ? List.of() : List.copyOf(manifests);
        }

        String top() {
            return layers.isEmpty() ? null : layers.get(layers.size() - 1);
        }

        /** Every blob this image keeps in the content store besides its layers' uncompressed tars. */
        Set<String> extraBlobs() {
            Set<String> blobs = new TreeSet<>(compressed.values());
            blobs.addAll(manifests);
            return blobs;
        }

        ImageRecord with(Map<String, String> moreCompressed, String manifest) {
            Map<String, String> c = new TreeMap<>(compressed);
            c.putAll(moreCompressed);
            List<String> m = new ArrayList<>(manifests);
            if (manifest != null && !m.contains(manifest)) {
                m.add(manifest);
            }
            return new ImageRecord(id, layers, diffIds, created, size, c, m);
        }
    }

    /** Opens one layer's uncompressed tar. */
    @FunctionalInterface
    private interface TarSource {
        InputStream open() throws IOException;
    }

    /** Told when a layer is actually unpacked into the layer store (by index, bottom first). */
    private interface Unpacking {
        Unpacking NONE = new Unpacking() {
        };

        default void extracting(int index) {
        }

        default void done(int index) {
        }
    }

    /** What {@code repositories.json} holds: normalised reference to image id. */
    record Repositories(TreeMap<String, String> references) {
    }

    /** An image found in an archive, verified and ready to go into the stores. */
    private record Candidate(String id, byte[] config, List<Path> layerFiles, List<String> diffIds,
                             List<Reference> names, String created) {
    }

    private final Path root;
    private final Path imagedb;
    private final Path repositoriesFile;
    private final Path tmp;
    private final ContentStore content;
    private final LayerStore layers;
    private final Supplier<RegistryClient> registry;

    public FileImageStore(Path root, ContentStore content, LayerStore layers) throws IOException {
        this(root, content, layers, () -> null);
    }

    /**
     * @param registry the registry client in use for pull and push; it may give {@code null} when none is running
     */
    public FileImageStore(Path root, ContentStore content, LayerStore layers, Supplier<RegistryClient> registry)
            throws IOException {
        this.registry = registry == null ? () -> null : registry;
        this.root = Files.createDirectories(root).toAbsolutePath();
        this.imagedb = Files.createDirectories(this.root.resolve("imagedb"));
        this.repositoriesFile = this.root.resolve("repositories.json");
        this.tmp = this.root.resolve("tmp");
        this.content = content;
        this.layers = layers;
        if (Files.exists(tmp)) {
            DiskFiles.deleteTree(tmp); // what an interrupted load left
        }
        // What a write interrupted by a crash left (see DiskFiles.writeAtomically).
        for (Path dir : List.of(imagedb, this.root)) {
            try (DirectoryStream<Path> partial = Files.newDirectoryStream(dir, DiskFiles.TEMP_PREFIX + "*")) {
                for (Path file : partial) {
                    Files.deleteIfExists(file);
                }
            }
        }
        forgetUnfinished();
    }

    /**
     * Undoes what a pull or load cut short by a crash left behind: layer references no image holds (released,
     * which removes the layers) and blobs no image refers to (deleted). What cannot be undone now, e.g. because
     * its storage driver is not running, is logged and tried again at the next start.
     */
    private void forgetUnfinished() {
        try {
            Map<String, Integer> expected = new java.util.HashMap<>(); // held by images as their top, or by children
            Set<String> kept = new TreeSet<>();
            for (ImageRecord record : records()) {
                if (record.top() != null) {
                    expected.merge(record.top(), 1, Integer::sum);
                }
                kept.add(record.id());
                kept.addAll(record.diffIds());
                kept.addAll(record.extraBlobs());
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
        Map<String, List<String>> names = namesById();
        List<Image> images = new ArrayList<>();
        for (ImageRecord record : records()) {
            images.add(toImage(record, names.getOrDefault(record.id(), List.of())));
        }
        images.sort(Comparator.comparing((Image image) -> instant(image.created()), Comparator.reverseOrder())
                .thenComparing(Image::id));
        return images;
    }

    @Override
    public synchronized Image find(String nameOrId) throws IOException {
        ImageRecord record = resolve(nameOrId);
        return record == null ? null : toImage(record, namesById().getOrDefault(record.id(), List.of()));
    }

    @Override
    public synchronized byte[] config(String id) throws IOException {
        ImageRecord record = resolve(id);
        if (record == null) {
            throw noSuchImage(id);
        }
        try (InputStream in = content.read(record.id())) {
            return in.readAllBytes();
        }
    }

    // ---------------------------------------------------------------- names

    @Override
    public synchronized void tag(String source, String target) throws IOException {
        ImageRecord record = resolve(source);
        if (record == null) {
            throw noSuchImage(source);
        }
        Reference ref = Reference.parse(target);
        if (ref.digest() != null) {
            throw new IllegalArgumentException("refusing to create a tag with a digest reference");
        }
        Repositories repos = repositories();
        repos.references().put(ref.toString(), record.id());
        writeRepositories(repos);
    }

    @Override
    public synchronized List<String> remove(String nameOrId, boolean force) throws IOException {
        Repositories repos = repositories();
        Reference byName = parseReference(nameOrId);
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
            writeRepositories(repos);
            if (!repos.references().containsValue(id)) {
                ImageRecord record = readRecord(id);
                if (record != null) {
                    out.addAll(delete(record));
                }
            }
            return out;
        }
        ImageRecord record = resolveId(nameOrId);
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
            throw new IllegalStateException("conflict: unable to delete " + shortId(record.id())
                    + " (must be forced) - image is referenced in multiple repositories");
        }
        for (Reference ref : refs) {
            repos.references().remove(ref.toString());
            out.add("Untagged: " + familiar(ref));
        }
        if (!refs.isEmpty()) {
            writeRepositories(repos);
        }
        out.addAll(delete(record));
        return out;
    }

    @Override
    public synchronized List<String> prune() throws IOException {
        Set<String> named = new TreeSet<>(repositories().references().values());
        List<String> deleted = new ArrayList<>();
        for (ImageRecord record : records()) {
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
        Files.deleteIfExists(recordFile(record.id()));
        DiskFiles.syncDirectory(imagedb);
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
        for (ImageRecord other : records()) {
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
            spool(archive, spool);
            List<Candidate> candidates;
            if (Files.isRegularFile(spool.resolve("manifest.json"))) {
                candidates = dockerArchive(spool);
            } else if (Files.isRegularFile(spool.resolve("index.json"))
                    && Files.isRegularFile(spool.resolve("oci-layout"))) {
                candidates = ociLayout(spool);
            } else {
                throw new IOException("invalid image archive: it has neither manifest.json (docker save format)"
                        + " nor oci-layout and index.json (OCI image layout)");
            }
            return commit(candidates);
        } finally {
            DiskFiles.deleteTree(spool);
        }
    }

    /** Puts every regular member of the archive under {@code dir}; hostile names and links are refused. */
    private static void spool(InputStream archive, Path dir) throws IOException {
        InputStream in = decompressed(new BufferedInputStream(archive));
        TarArchiveInputStream tar = new TarArchiveInputStream(in);
        TarArchiveEntry entry;
        Set<String> seen = new TreeSet<>();
        while ((entry = tar.getNextEntry()) != null) {
            String name = memberName(entry.getName());
            if (entry.isSymbolicLink() || entry.isLink()) {
                throw new IOException("invalid image archive: member " + entry.getName() + " is a link ("
                        + entry.getLinkName() + "); links are not accepted");
            }
            if (name.isEmpty()) {
                continue; // "./"
            }
            Path target = dir.resolve(name).normalize();
            if (!target.startsWith(dir)) {
                throw new IOException("invalid image archive: member name " + entry.getName() + " leaves the archive");
            }
            if (entry.isDirectory()) {
                Files.createDirectories(target);
            } else if (entry.isFile()) {
                if (!seen.add(name)) {
                    throw new IOException("invalid image archive: member " + entry.getName() + " appears twice");
                }
                Files.createDirectories(target.getParent());
                ensureNoLinksBetween(dir, target.getParent());
                Files.copy(tar, target);
            } else {
                throw new IOException("invalid image archive: member " + entry.getName()
                        + " is neither a file nor a directory");
            }
        }
    }

    /** A member name made relative and checked: no absolute paths, no {@code ..}. */
    static String memberName(String raw) throws IOException {
        if (raw.startsWith("/") || raw.contains("\\") || raw.indexOf('\0') >= 0) {
            throw new IOException("invalid image archive: member name " + raw + " is absolute or malformed");
        }
        List<String> parts = new ArrayList<>();
        for (String part : raw.split("/")) {
            if (part.equals("..")) {
                throw new IOException("invalid image archive: member name " + raw + " contains \"..\"");
            }
            if (!part.isEmpty() && !part.equals(".")) {
                parts.add(part);
            }
        }
        return String.join("/", parts);
    }

    private static void ensureNoLinksBetween(Path dir, Path inner) throws IOException {
        for (Path p = inner; p != null && !p.equals(dir); p = p.getParent()) {
            if (Files.isSymbolicLink(p)) {
                throw new IOException("invalid image archive: " + dir.relativize(p) + " is a link");
            }
        }
    }

    private List<Candidate> dockerArchive(Path dir) throws IOException {
        JsonNode manifest = readJson(dir.resolve("manifest.json"), "manifest.json");
        if (!manifest.isArray() || manifest.isEmpty()) {
            throw new IOException("invalid image archive: manifest.json must be a non-empty array");
        }
        List<Candidate> result = new ArrayList<>();
        for (JsonNode item : manifest) {
            String configPath = item.path("Config").asText(null);
            if (configPath == null) {
                throw new IOException("invalid image archive: a manifest.json entry has no Config");
            }
            Path configFile = member(dir, configPath);
            byte[] config = Files.readAllBytes(configFile);
            String id = "sha256:" + sha256Hex(config);
            String expected = digestInName(configPath);
            if (expected != null && !expected.equals(id)) {
                throw new IOException("invalid image archive: config digest mismatch for " + configPath
                        + ": its name says sha256:" + expected.substring(7) + ", its content is " + id);
            }
            List<Path> layerFiles = new ArrayList<>();
            JsonNode layerPaths = item.path("Layers");
            if (!layerPaths.isArray()) {
                throw new IOException("invalid image archive: manifest.json entry for " + configPath
                        + " has no Layers array");
            }
            for (JsonNode layerPath : layerPaths) {
                Path file = member(dir, layerPath.asText());
                String inName = layerPath.asText().startsWith("blobs/") ? digestInName(layerPath.asText()) : null;
                if (inName != null) {
                    String actual = "sha256:" + sha256Hex(file);
                    if (!actual.equals(inName)) {
                        throw new IOException("invalid image archive: digest mismatch for " + layerPath.asText()
                                + ": content is " + actual);
                    }
                }
                layerFiles.add(file);
            }
            List<Reference> names = new ArrayList<>();
            for (JsonNode tag : item.path("RepoTags")) {
                names.add(parseName(tag.asText()));
            }
            result.add(candidate(id, config, layerFiles, names));
        }
        return result;
    }

    private List<Candidate> ociLayout(Path dir) throws IOException {
        JsonNode layout = readJson(dir.resolve("oci-layout"), "oci-layout");
        if (!layout.hasNonNull("imageLayoutVersion")) {
            throw new IOException("invalid OCI image layout: oci-layout has no imageLayoutVersion");
        }
        byte[] indexBytes = Files.readAllBytes(dir.resolve("index.json"));
        Manifests.Index index = Manifests.index(indexBytes);
        JsonNode rawManifests = JSON.readTree(indexBytes).path("manifests");
        Manifests.Platform host = Manifests.Platform.host();
        Map<String, Candidate> byId = new LinkedHashMap<>();
        for (int i = 0; i < index.manifests().size(); i++) {
            Manifests.Descriptor descriptor = index.manifests().get(i);
            if (descriptor.platform() != null && !descriptor.platform().matches(host)) {
                continue;
            }
            JsonNode annotations = rawManifests.get(i).path("annotations");
            List<Reference> names = new ArrayList<>();
            if (annotations.hasNonNull(CONTAINERD_NAME)) {
                names.add(parseName(annotations.get(CONTAINERD_NAME).asText()));
            } else if (annotations.hasNonNull(OCI_REF_NAME)) {
                String refName = annotations.get(OCI_REF_NAME).asText();
                // A bare tag ("latest") names no repository: the image loads without a name.
                if (refName.contains("/") || refName.contains(":") || refName.contains("@")) {
                    names.add(parseName(refName));
                }
            }
            Candidate found = ociImage(dir, descriptor, host, 0);
            Candidate known = byId.get(found.id());
            if (known != null) {
                names.addAll(0, known.names());
            }
            byId.put(found.id(), new Candidate(found.id(), found.config(), found.layerFiles(), found.diffIds(),
                    names, found.created()));
        }
        if (byId.isEmpty()) {
            throw new IOException("invalid OCI image layout: index.json has no image for " + host);
        }
        return new ArrayList<>(byId.values());
    }

    private Candidate ociImage(Path dir, Manifests.Descriptor descriptor, Manifests.Platform host, int depth)
            throws IOException {
        if (depth > 4) {
            throw new IOException("invalid OCI image layout: indexes nested too deep");
        }
        Path blob = ociBlob(dir, descriptor);
        byte[] document = Files.readAllBytes(blob);
        if (Manifests.isIndex(Manifests.mediaTypeOf(document))) {
            return ociImage(dir, Manifests.index(document).select(host), host, depth + 1);
        }
        Manifests.Manifest manifest = Manifests.manifest(document);
        byte[] config = Files.readAllBytes(ociBlob(dir, manifest.config()));
        List<Path> layerFiles = new ArrayList<>();
        for (Manifests.Descriptor layer : manifest.layers()) {
            if (layer.mediaType().endsWith("+zstd")) {
                throw new IOException("cannot load layer " + layer.digest() + ": zstd-compressed layers are not supported");
            }
            layerFiles.add(ociBlob(dir, layer));
        }
        return candidate(manifest.config().digest(), config, layerFiles, List.of());
    }

    /** A blob of an OCI layout, checked against its descriptor's digest and size. */
    private static Path ociBlob(Path dir, Manifests.Descriptor descriptor) throws IOException {
        String path = "blobs/sha256/" + descriptor.digest().substring("sha256:".length());
        Path file = member(dir, path);
        if (Files.size(file) != descriptor.size()) {
            throw new IOException("invalid OCI image layout: " + path + " has " + Files.size(file)
                    + " bytes, its descriptor says " + descriptor.size());
        }
        String actual = "sha256:" + sha256Hex(file);
        if (!actual.equals(descriptor.digest())) {
            throw new IOException("invalid OCI image layout: digest mismatch for " + path + ": content is " + actual);
        }
        return file;
    }

    /** Checks an image's layers against its config's rootfs.diff_ids. */
    private static Candidate candidate(String id, byte[] config, List<Path> layerFiles, List<Reference> names)
            throws IOException {
        if (!id.equals("sha256:" + sha256Hex(config))) {
            throw new IOException("invalid image archive: config digest mismatch: expected " + id
                    + ", content is sha256:" + sha256Hex(config));
        }
        JsonNode root;
        try {
            root = JSON.readTree(config);
        } catch (IOException e) {
            throw new IOException("invalid image config " + id + ": not JSON");
        }
        JsonNode diffIds = root == null ? null : root.path("rootfs").get("diff_ids");
        if (diffIds == null || !diffIds.isArray()) {
            throw new IOException("invalid image config " + id + ": it has no rootfs.diff_ids");
        }
        if (diffIds.size() != layerFiles.size()) {
            throw new IOException("invalid image archive: image " + id + " lists " + layerFiles.size()
                    + " layers but its config has " + diffIds.size() + " diff_ids");
        }
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < layerFiles.size(); i++) {
            String want = diffIds.get(i).asText();
            String got = "sha256:" + uncompressedSha256Hex(layerFiles.get(i));
            if (!got.equals(want)) {
                throw new IOException("invalid image archive: layer " + (i + 1) + " of image " + id
                        + " has diff id " + got + " but the config says " + want);
            }
            expected.add(want);
        }
        return new Candidate(id, config, layerFiles, expected, names, root.path("created").asText(""));
    }

    /** Stores verified images: blobs, layers, then records and names. On failure nothing stays. */
    private List<Image> commit(List<Candidate> candidates) throws IOException {
        List<String> newBlobs = new ArrayList<>();
        List<String> heldTops = new ArrayList<>();
        List<ImageRecord> records = new ArrayList<>();
        try {
            for (Candidate candidate : candidates) {
                writeBlob(new java.io.ByteArrayInputStream(candidate.config()), candidate.id(), newBlobs);
                List<TarSource> tars = new ArrayList<>();
                for (Path file : candidate.layerFiles()) {
                    tars.add(() -> decompressed(new BufferedInputStream(Files.newInputStream(file))));
                }
                records.add(registerLayers(candidate.id(), candidate.created(), tars, candidate.diffIds(),
                        newBlobs, heldTops, Unpacking.NONE));
            }
        } catch (IOException | RuntimeException e) {
            undo(e, heldTops, newBlobs);
            throw e;
        }
        Repositories repos = repositories();
        List<String> loadedIds = new ArrayList<>();
        for (ImageRecord record : records) {
            if (readRecord(record.id()) != null) {
                if (record.top() != null) {
                    layers.release(record.top()); // the image has its reference already
                }
            } else {
                writeRecord(record);
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
        writeRepositories(repos);
        Map<String, List<String>> names = namesById();
        List<Image> result = new ArrayList<>();
        for (String id : new LinkedHashSet<>(loadedIds)) {
            result.add(toImage(readRecord(id), names.getOrDefault(id, List.of())));
        }
        return result;
    }

    /**
     * Puts an image's layers into the layer store, bottom first, keeping each layer's uncompressed tar as a blob
     * keyed by its diff id (written only when missing, and verified against the diff id as it is written).
     * Layers whose chain exists already are not unpacked again: below the top they are only used as parents
     * (a new child takes its own reference on its parent); an existing top takes one more reference. When it
     * returns, the image holds exactly one reference: on its top layer, which is in {@code heldTops}; layers
     * and blobs it added are in {@code heldTops} and {@code newBlobs} for {@link #undo} if a later step fails.
     */
    private ImageRecord registerLayers(String id, String created, List<TarSource> tars, List<String> diffIds,
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
                    : "sha256:" + sha256Hex((parent + " " + diffId).getBytes(StandardCharsets.UTF_8));
            Layer existing = layers.get(chainId);
            if (existing == null) {
                unpacking.extracting(i);
            }
            if (!content.exists(diffId)) {
                try (InputStream tar = tars.get(i).open()) {
                    content.write(tar, diffId, -1);
                } catch (IOException e) {
                    throw new IOException("layer " + (i + 1) + " of image " + id + " does not match diff id "
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
    private void undo(Exception e, List<String> heldTops, List<String> newBlobs) {
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

    private void writeBlob(InputStream in, String digest, List<String> newBlobs) throws IOException {
        if (content.exists(digest)) {
            return;
        }
        content.write(in, digest, -1);
        newBlobs.add(digest);
    }

    // ---------------------------------------------------------------- pull and push

    private RegistryClient client() throws IOException {
        RegistryClient client = registry.get();
        if (client == null) {
            throw new IOException("no registry client is running");
        }
        return client;
    }

    @Override
    public Image pull(String reference, String platform, RegistryClient.Credentials credentials,
                      Consumer<RegistryClient.Progress> progress) throws IOException {
        RegistryClient client = client();
        Reference ref = Reference.parse(reference);
        Consumer<RegistryClient.Progress> events = progress == null ? p -> { } : progress;
        // The download runs without the store's lock: blobs are content addressed, nothing else changes.
        RegistryClient.Pulled pulled = client.pull(ref, platform, credentials, events);
        return commitPulled(ref, pulled, events);
    }

    private synchronized Image commitPulled(Reference ref, RegistryClient.Pulled pulled,
                                            Consumer<RegistryClient.Progress> events) throws IOException {
        try {
            return storePulled(ref, pulled, events);
        } catch (IOException | RuntimeException e) {
            forgetPulled(pulled, e);
            throw e;
        }
    }

    private Image storePulled(Reference ref, RegistryClient.Pulled pulled, Consumer<RegistryClient.Progress> events)
            throws IOException {
        String id = pulled.configDigest();
        if (id == null || !ID.matcher(id).matches()) {
            throw new IOException("manifest " + pulled.manifestDigest() + " of " + ref + " has no valid config digest");
        }
        byte[] config;
        try (InputStream in = content.read(id)) {
            config = in.readAllBytes();
        }
        if (!id.equals("sha256:" + sha256Hex(config))) {
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
            if (!ID.matcher(diffId).matches()) {
                throw new IOException("invalid image config " + id + ": bad diff id \"" + diffId + "\"");
            }
            RegistryClient.Blob blob = blobs.get(i);
            Compression compression = compression(blob.mediaType(), blob.digest());
            diffIds.add(diffId);
            if (compression == Compression.GZIP) {
                compressed.put(diffId, blob.digest());
            }
            tars.add(() -> compression.open(new BufferedInputStream(content.read(blob.digest()))));
        }

        ImageRecord known = readRecord(id);
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
                record = registerLayers(id, root.path("created").asText(""), tars, diffIds, newBlobs, heldTops,
                        new Unpacking() {
                            @Override
                            public void extracting(int index) {
                                events.accept(new RegistryClient.Progress(shortDigest(blobs.get(index).digest()),
                                        "Extracting", -1, -1));
                            }

                            @Override
                            public void done(int index) {
                                events.accept(new RegistryClient.Progress(shortDigest(blobs.get(index).digest()),
                                        "Pull complete", -1, -1));
                            }
                        }).with(compressed, pulled.manifestDigest());
                writeRecord(record);
            } catch (IOException | RuntimeException e) {
                undo(e, heldTops, newBlobs);
                throw e;
            }
        }
        if (known != null) {
            writeRecord(record);
        }
        if (pulled.indexDigest() != null && !isKept(pulled.indexDigest())) {
            content.delete(pulled.indexDigest()); // the image keeps its own manifest, not the index
        }
        Repositories repos = repositories();
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
        writeRepositories(repos);
        // The registry client has reported "Digest: ..." already.
        events.accept(new RegistryClient.Progress(null, (known != null ? "Status: Image is up to date for "
                : "Status: Downloaded newer image for ") + familiar(ref), -1, -1));
        return toImage(record, namesById().getOrDefault(id, List.of()));
    }

    /**
     * A layer whose uncompressed tar is kept already is not read again when it is registered: unless its blob is
     * known to be that tar (compressed), check that it decompresses to the diff id the config names.
     */
    private void verifyKeptLayers(List<RegistryClient.Blob> blobs, List<String> diffIds, List<TarSource> tars)
            throws IOException {
        Set<String> knownPairs = new TreeSet<>();
        for (ImageRecord other : records()) {
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
                actual = "sha256:" + sha256Hex(tar);
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
                if (digest != null && ID.matcher(digest).matches() && !isKept(digest)) {
                    content.delete(digest);
                }
            }
        } catch (IOException | RuntimeException again) {
            e.addSuppressed(again);
        }
    }

    /** Whether an image record refers to the blob (as its config, a layer tar, a compressed layer or a manifest). */
    private boolean isKept(String digest) throws IOException {
        for (ImageRecord other : records()) {
            if (other.id().equals(digest) || other.diffIds().contains(digest) || other.extraBlobs().contains(digest)) {
                return true;
            }
        }
        return false;
    }

    /** How a layer blob is compressed, from its media type. */
    private enum Compression {
        NONE, GZIP;

        InputStream open(BufferedInputStream in) throws IOException {
            return this == GZIP ? new GzipCompressorInputStream(in, true) : in;
        }
    }

    private static Compression compression(String mediaType, String digest) throws IOException {
        if (mediaType == null) {
            throw new IOException("layer " + digest + " has no media type");
        }
        if (mediaType.endsWith("+zstd") || mediaType.endsWith(".tar.zstd")) {
            throw new IOException("cannot unpack layer " + digest + " (" + mediaType
                    + "): zstd layers are not supported yet");
        }
        if (mediaType.endsWith("+gzip") || mediaType.endsWith(".tar.gzip")) {
            return Compression.GZIP;
        }
        if (mediaType.endsWith(".tar") || mediaType.endsWith("diff.tar")) {
            return Compression.NONE;
        }
        throw new IOException("cannot unpack layer " + digest + ": unsupported media type " + mediaType);
    }

    private static String shortDigest(String digest) {
        return digest != null && digest.startsWith("sha256:") && digest.length() >= 19 ? digest.substring(7, 19) : digest;
    }

    @Override
    public String push(String name, RegistryClient.Credentials credentials,
                       Consumer<RegistryClient.Progress> progress) throws IOException {
        RegistryClient client = client();
        Reference ref = parseReference(name);
        if (ref == null) {
            throw new IllegalArgumentException("cannot push " + name + ": push needs a repository name, not an image id");
        }
        if (ref.digest() != null) {
            throw new IllegalArgumentException("cannot push " + name + ": a digest reference cannot be pushed to");
        }
        byte[] manifest;
        String id;
        synchronized (this) {
            id = repositories().references().get(ref.toString());
            ImageRecord record = id == null ? null : readRecord(id);
            if (record == null) {
                throw new NoSuchElementException("An image does not exist locally with the tag: " + familiar(ref));
            }
            manifest = pushManifest(record);
        }
        String digest = client.push(ref, manifest, Manifests.OCI_MANIFEST, credentials, progress);
        synchronized (this) {
            if (readRecord(id) != null) {
                Repositories repos = repositories();
                repos.references().put(new Reference(ref.domain(), ref.path(), null, digest).toString(), id);
                writeRepositories(repos);
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
        manifest.set("config", descriptor(Manifests.OCI_CONFIG, record.id(), content.size(record.id())));
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
            layerDescriptors.add(descriptor(OCI_LAYER + "+gzip", gzipped, content.size(gzipped)));
        }
        byte[] bytes = JSON.writeValueAsBytes(manifest);
        String digest = content.write(new java.io.ByteArrayInputStream(bytes), "sha256:" + sha256Hex(bytes),
                bytes.length);
        writeRecord(record.with(compressed, digest));
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
                return content.write(in, "sha256:" + sha256Hex(file), Files.size(file));
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    // ---------------------------------------------------------------- save

    @Override
    public synchronized void save(List<String> namesOrIds, OutputStream out) throws IOException {
        if (namesOrIds.isEmpty()) {
            throw new IllegalArgumentException("nothing to save: no image names given");
        }
        Repositories repos = repositories();
        Map<String, LinkedHashSet<Reference>> chosen = new LinkedHashMap<>();
        for (String nameOrId : namesOrIds) {
            Reference ref = parseReference(nameOrId);
            if (ref != null && ref.digest() == null && !hasExplicitTag(nameOrId)) {
                // A repository without a tag: every tag of it, as docker save does.
                boolean any = false;
                for (Map.Entry<String, String> entry : repos.references().entrySet()) {
                    Reference candidate = Reference.parse(entry.getKey());
                    if (candidate.name().equals(ref.name()) && candidate.tag() != null) {
                        chosen.computeIfAbsent(entry.getValue(), k -> new LinkedHashSet<>()).add(candidate);
                        any = true;
                    }
                }
                if (any) {
                    continue;
                }
            }
            if (ref != null && repos.references().containsKey(ref.toString())) {
                LinkedHashSet<Reference> set = chosen.computeIfAbsent(repos.references().get(ref.toString()),
                        k -> new LinkedHashSet<>());
                if (ref.tag() != null && ref.digest() == null) {
                    set.add(ref);
                }
                continue;
            }
            ImageRecord record = resolveId(nameOrId);
            if (record == null) {
                throw noSuchImage(nameOrId);
            }
            chosen.computeIfAbsent(record.id(), k -> new LinkedHashSet<>());
        }
        List<ImageRecord> records = new ArrayList<>();
        for (String id : chosen.keySet()) {
            ImageRecord record = readRecord(id);
            for (String diffId : record.diffIds()) {
                if (!content.exists(diffId)) {
                    throw new IOException("cannot save image " + id + ": the content of layer " + diffId
                            + " was not kept");
                }
            }
            records.add(record);
        }

        TarArchiveOutputStream tar = new TarArchiveOutputStream(new NonClosing(out));
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        directory(tar, "blobs/");
        directory(tar, "blobs/sha256/");
        Set<String> written = new TreeSet<>();
        ArrayNode manifestJson = JSON.createArrayNode();
        ArrayNode indexManifests = JSON.createArrayNode();
        Map<String, Map<String, String>> legacyRepositories = new TreeMap<>();
        for (ImageRecord record : records) {
            long configSize = content.size(record.id());
            blob(tar, record.id(), written);
            ObjectNode manifest = JSON.createObjectNode();
            manifest.put("schemaVersion", 2);
            manifest.put("mediaType", Manifests.OCI_MANIFEST);
            manifest.set("config", descriptor(Manifests.OCI_CONFIG, record.id(), configSize));
            ArrayNode layerDescriptors = manifest.putArray("layers");
            ObjectNode entry = JSON.createObjectNode();
            entry.put("Config", blobPath(record.id()));
            ArrayNode repoTags = entry.putArray("RepoTags");
            ArrayNode layerPaths = entry.putArray("Layers");
            for (String diffId : record.diffIds()) {
                blob(tar, diffId, written);
                layerDescriptors.add(descriptor(OCI_LAYER, diffId, content.size(diffId)));
                layerPaths.add(blobPath(diffId));
            }
            byte[] manifestBytes = JSON.writeValueAsBytes(manifest);
            String manifestDigest = "sha256:" + sha256Hex(manifestBytes);
            bytes(tar, blobPath(manifestDigest), manifestBytes, written.add(manifestDigest));
            Set<Reference> tags = chosen.get(record.id());
            for (Reference tag : tags) {
                repoTags.add(familiar(tag));
                ObjectNode indexEntry = descriptor(Manifests.OCI_MANIFEST, manifestDigest, manifestBytes.length);
                ObjectNode annotations = indexEntry.putObject("annotations");
                annotations.put(CONTAINERD_NAME, tag.toString());
                annotations.put(OCI_REF_NAME, tag.tag());
                indexManifests.add(indexEntry);
                if (!record.diffIds().isEmpty()) {
                    legacyRepositories.computeIfAbsent(tag.familiarName(), k -> new TreeMap<>())
                            .put(tag.tag(), record.diffIds().get(record.diffIds().size() - 1).substring(7));
                }
            }
            if (tags.isEmpty()) {
                indexManifests.add(descriptor(Manifests.OCI_MANIFEST, manifestDigest, manifestBytes.length));
            }
            manifestJson.add(entry);
        }
        ObjectNode index = JSON.createObjectNode();
        index.put("schemaVersion", 2);
        index.put("mediaType", Manifests.OCI_INDEX);
        index.set("manifests", indexManifests);
        bytes(tar, "index.json", JSON.writeValueAsBytes(index), true);
        bytes(tar, "manifest.json", JSON.writeValueAsBytes(manifestJson), true);
        bytes(tar, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8), true);
        if (!legacyRepositories.isEmpty()) {
            bytes(tar, "repositories", JSON.writeValueAsBytes(legacyRepositories), true);
        }
        tar.finish();
        tar.close();
        out.flush();
    }

    private static boolean hasExplicitTag(String text) {
        int slash = text.lastIndexOf('/');
        return text.indexOf(':', slash + 1) >= 0 || text.contains("@");
    }

    private static ObjectNode descriptor(String mediaType, String digest, long size) {
        ObjectNode node = JSON.createObjectNode();
        node.put("mediaType", mediaType);
        node.put("digest", digest);
        node.put("size", size);
        return node;
    }

    private static String blobPath(String digest) {
        return "blobs/sha256/" + digest.substring("sha256:".length());
    }

    private static void directory(TarArchiveOutputStream tar, String name) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name);
        entry.setMode(040755);
        entry.setModTime(0);
        tar.putArchiveEntry(entry);
        tar.closeArchiveEntry();
    }

    private void blob(TarArchiveOutputStream tar, String digest, Set<String> written) throws IOException {
        if (!written.add(digest)) {
            return;
        }
        TarArchiveEntry entry = new TarArchiveEntry(blobPath(digest));
        entry.setMode(0100644);
        entry.setModTime(0);
        entry.setSize(content.size(digest));
        tar.putArchiveEntry(entry);
        try (InputStream in = content.read(digest)) {
            in.transferTo(tar);
        }
        tar.closeArchiveEntry();
    }

    private static void bytes(TarArchiveOutputStream tar, String name, byte[] data, boolean write) throws IOException {
        if (!write) {
            return;
        }
        TarArchiveEntry entry = new TarArchiveEntry(name);
        entry.setMode(0100644);
        entry.setModTime(0);
        entry.setSize(data.length);
        tar.putArchiveEntry(entry);
        tar.write(data);
        tar.closeArchiveEntry();
    }

    /** Keeps the caller's stream open when the tar writer is closed. */
    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }
    }

    // ---------------------------------------------------------------- lookup

    /** A name or an id (full, bare hex or a prefix of at least 4 hex digits) to its image, or null. */
    private ImageRecord resolve(String nameOrId) throws IOException {
        if (nameOrId == null || nameOrId.isEmpty()) {
            return null;
        }
        Reference ref = parseReference(nameOrId);
        if (ref != null) {
            String id = repositories().references().get(ref.toString());
            if (id != null) {
                return readRecord(id);
            }
        }
        ImageRecord byId = resolveId(nameOrId);
        if (byId == null && ref == null && !HEX_PREFIX.matcher(nameOrId).matches()) {
            Reference.parse(nameOrId); // throws, saying what is wrong with the name
        }
        return byId;
    }

    /** An id, bare hex or unambiguous hex prefix (4 digits at least) to its image, or null. */
    private ImageRecord resolveId(String text) throws IOException {
        if (!HEX_PREFIX.matcher(text).matches()) {
            return null;
        }
        String hex = text.startsWith("sha256:") ? text.substring(7) : text;
        if (HEX64.matcher(hex).matches()) {
            return readRecord("sha256:" + hex);
        }
        List<String> matches = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(imagedb, hex + "*.json")) {
            for (Path file : files) {
                matches.add("sha256:" + file.getFileName().toString().replace(".json", ""));
            }
        }
        if (matches.size() > 1) {
            matches.sort(null);
            throw new IllegalArgumentException("ambiguous image id prefix " + text + ": it matches " + matches);
        }
        return matches.isEmpty() ? null : readRecord(matches.get(0));
    }

    /** The reference a text names, or null if it is not a valid reference (it may still be an id). */
    private static Reference parseReference(String text) {
        if (ID.matcher(text).matches() || HEX64.matcher(text).matches()) {
            return null;
        }
        try {
            return Reference.parse(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static Reference parseName(String text) throws IOException {
        try {
            return Reference.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IOException("invalid image archive: bad image name \"" + text + "\": " + e.getMessage());
        }
    }

    private Image toImage(ImageRecord record, List<String> names) {
        List<String> tags = new ArrayList<>();
        List<String> digests = new ArrayList<>();
        for (String name : names) {
            Reference ref = Reference.parse(name);
            if (ref.digest() != null) {
                digests.add(ref.familiarName() + "@" + ref.digest());
            } else {
                tags.add(familiar(ref));
            }
        }
        return new Image(record.id(), tags, digests, record.created() == null ? "" : record.created(),
                record.size(), record.layers());
    }

    /** Normalised references by image id, sorted. */
    private Map<String, List<String>> namesById() throws IOException {
        Map<String, List<String>> result = new TreeMap<>();
        for (Map.Entry<String, String> entry : repositories().references().entrySet()) {
            result.computeIfAbsent(entry.getValue(), k -> new ArrayList<>()).add(entry.getKey());
        }
        return result;
    }

    private static java.time.Instant instant(String created) {
        try {
            return java.time.OffsetDateTime.parse(created).toInstant();
        } catch (java.time.DateTimeException e) {
            return java.time.Instant.MIN;
        }
    }

    private static String familiar(Reference ref) {
        return ref.familiarName() + (ref.tag() == null ? "" : ":" + ref.tag())
                + (ref.digest() == null ? "" : "@" + ref.digest());
    }

    private static String shortId(String id) {
        return id.substring("sha256:".length(), "sha256:".length() + 12);
    }

    private static NoSuchElementException noSuchImage(String name) {
        return new NoSuchElementException("No such image: " + name);
    }

    // ---------------------------------------------------------------- files

    private List<ImageRecord> records() throws IOException {
        List<ImageRecord> result = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(imagedb, "*.json")) {
            for (Path file : files) {
                result.add(JSON.readValue(file.toFile(), ImageRecord.class));
            }
        }
        return result;
    }

    private ImageRecord readRecord(String id) throws IOException {
        Path file = recordFile(id);
        try {
            return JSON.readValue(Files.readAllBytes(file), ImageRecord.class);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private void writeRecord(ImageRecord record) throws IOException {
        DiskFiles.writeAtomically(recordFile(record.id()), JSON.writeValueAsBytes(record));
    }

    private Path recordFile(String id) {
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("invalid image id: " + id);
        }
        return imagedb.resolve(id.substring("sha256:".length()) + ".json");
    }

    private Repositories repositories() throws IOException {
        if (!Files.exists(repositoriesFile)) {
            return new Repositories(new TreeMap<>());
        }
        Repositories repos = JSON.readValue(repositoriesFile.toFile(), Repositories.class);
        return repos.references() == null ? new Repositories(new TreeMap<>()) : repos;
    }

    private void writeRepositories(Repositories repos) throws IOException {
        DiskFiles.writeAtomically(repositoriesFile, JSON.writeValueAsBytes(repos));
    }

    private static Path member(Path dir, String name) throws IOException {
        Path file = dir.resolve(memberName(name)).normalize();
        if (!file.startsWith(dir) || !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("invalid image archive: " + name + " is not in the archive");
        }
        return file;
    }

    /** The digest a member's name carries ({@code <hex>.json}, {@code blobs/sha256/<hex>}), or null. */
    private static String digestInName(String path) {
        String last = path.substring(path.lastIndexOf('/') + 1);
        if (last.endsWith(".json")) {
            last = last.substring(0, last.length() - 5);
        }
        return HEX64.matcher(last).matches() ? "sha256:" + last : null;
    }

    private static JsonNode readJson(Path file, String what) throws IOException {
        try {
            JsonNode node = JSON.readTree(Files.readAllBytes(file));
            if (node == null) {
                throw new IOException("invalid image archive: " + what + " is empty");
            }
            return node;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException("invalid image archive: " + what + " is not valid JSON");
        }
    }

    /** The stream, gunzipped if it starts with gzip's magic bytes. */
    private static InputStream decompressed(BufferedInputStream in) throws IOException {
        in.mark(2);
        int first = in.read();
        int second = in.read();
        in.reset();
        if (first == 0x1f && second == 0x8b) {
            return new GzipCompressorInputStream(in, true);
        }
        return in;
    }

    private static String uncompressedSha256Hex(Path file) throws IOException {
        try (InputStream in = decompressed(new BufferedInputStream(Files.newInputStream(file)))) {
            return sha256Hex(in);
        }
    }

    private static String sha256Hex(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return sha256Hex(in);
        }
    }

    private static String sha256Hex(InputStream in) throws IOException {
        DigestInputStream digesting = new DigestInputStream(in, sha256());
        digesting.transferTo(OutputStream.nullOutputStream());
        return HexFormat.of().formatHex(digesting.getMessageDigest().digest());
    }

    private static String sha256Hex(byte[] data) {
        return HexFormat.of().formatHex(sha256().digest(data));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

}
