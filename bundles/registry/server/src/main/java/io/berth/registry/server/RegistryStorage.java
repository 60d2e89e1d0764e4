package io.berth.registry.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.spi.registry.LocalRegistry.GarbageCollection;
import io.berth.storage.support.DiskFiles;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The registry's files, all under one root:
 *
 * <pre>
 * blobs/sha256/&lt;hex&gt;                                   content, shared by all repositories
 * repositories/&lt;name&gt;/_layers/sha256/&lt;hex&gt;              link: the repository may see that blob
 * repositories/&lt;name&gt;/_manifests/revisions/sha256/&lt;hex&gt;  link: a manifest of the repository (holds its media type)
 * repositories/&lt;name&gt;/_manifests/tags/&lt;tag&gt;             the digest the tag points at
 * uploads/&lt;uuid&gt;/data, uploads/&lt;uuid&gt;/repository       blob uploads in progress
 * </pre>
 *
 * Every path is built from names checked by {@link Names} (whose grammar
 * has no "." / ".." components and nothing starting with "_") and is checked
 * again to lie under the root. A blob becomes visible only by an atomic
 * rename after its content was synced and verified against its digest.
 */
final class RegistryStorage {

    static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    private static final Set<String> MANIFEST_TYPES = Set.of(OCI_MANIFEST, DOCKER_MANIFEST);
    static final Set<String> INDEX_TYPES = Set.of(OCI_INDEX, DOCKER_LIST);
    private static final Set<String> FOREIGN_LAYERS = Set.of(
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
            "application/vnd.oci.image.layer.nondistributable.v1.tar",
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd");
    static final int MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

    /** A stored manifest. */
    record Manifest(String digest, String mediaType, byte[] content) {
    }

    private final Path root;
    private final Path blobs;
    private final Path repositories;
    private final Path uploads;
    private final ObjectMapper json = new ObjectMapper();
    /** Garbage collection takes it exclusively; every other operation shares it. */
    private final ReentrantReadWriteLock gcLock = new ReentrantReadWriteLock();
    private final ConcurrentHashMap<String, Object> uploadLocks = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, UploadDigest> uploadDigests = new ConcurrentHashMap<>();

    RegistryStorage(Path root) throws IOException {
        this.root = root.toAbsolutePath().normalize();
        this.blobs = this.root.resolve("blobs").resolve("sha256");
        this.repositories = this.root.resolve("repositories");
        this.uploads = this.root.resolve("uploads");
        Files.createDirectories(blobs);
        Files.createDirectories(repositories);
        Files.createDirectories(uploads);
    }

    Path root() {
        return root;
    }

    // ---------------------------------------------------------------- paths

    private Path under(Path base, String... parts) throws RegistryException {
        Path path = base;
        for (String part : parts) {
            path = path.resolve(part);
        }
        path = path.normalize();
        if (!path.startsWith(base) || path.equals(base)) {
            throw new RegistryException(ErrorCode.NAME_INVALID, "path outside the registry root", String.join("/", parts));
        }
        return path;
    }

    private Path repo(String name) throws RegistryException {
        return under(repositories, Names.repository(name));
    }

    Path blobPath(String digest) throws RegistryException {
        return under(blobs, Names.hex(Names.digest(digest)));
    }

    private Path layerLink(String name, String digest) throws RegistryException {
        return under(repo(name), "_layers", "sha256", Names.hex(Names.digest(digest)));
    }

    private Path revisionLink(String name, String digest) throws RegistryException {
        return under(repo(name), "_manifests", "revisions", "sha256", Names.hex(Names.digest(digest)));
    }

    private Path tagLink(String name, String tag) throws RegistryException {
        return under(repo(name), "_manifests", "tags", Names.tag(tag));
    }

    private Path upload(String id) throws RegistryException {
        return under(uploads, Names.upload(id));
    }

    // ---------------------------------------------------------------- blobs

    /** The size of a blob the repository may see, if it has it. */
    Optional<Long> blobSize(String name, String digest) throws RegistryException, IOException {
        Lock lock = shared();
        try {
            if (!Files.exists(layerLink(name, digest))) {
                return Optional.empty();
            }
            Path blob = blobPath(digest);
            return Files.isRegularFile(blob) ? Optional.of(Files.size(blob)) : Optional.empty();
        } finally {
            lock.unlock();
        }
    }

    /** Unlinks a blob from a repository; its content goes at the next garbage collection. */
    boolean deleteBlob(String name, String digest) throws RegistryException, IOException {
        Lock lock = shared();
        try {
            return Files.deleteIfExists(layerLink(name, digest));
        } finally {
            lock.unlock();
        }
    }

    /** Links a blob of one repository into another; false when the source does not have it. */
    boolean mount(String from, String to, String digest) throws RegistryException, IOException {
        Lock lock = shared();
        try {
            if (!Files.exists(layerLink(from, digest)) || !Files.isRegularFile(blobPath(digest))) {
                return false;
            }
            link(to, digest);
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void link(String name, String digest) throws RegistryException, IOException {
        Path link = layerLink(name, digest);
        if (!Files.exists(link)) {
            write(link, digest.getBytes(StandardCharsets.UTF_8));
        }
    }

    // ---------------------------------------------------------------- uploads

    String startUpload(String name) throws RegistryException, IOException {
        Names.repository(name);
        Lock lock = shared();
        try {
            String id = UUID.randomUUID().toString();
            Path dir = upload(id);
            Files.createDirectories(dir);
            Files.createFile(dir.resolve("data"));
            write(dir.resolve("repository"), name.getBytes(StandardCharsets.UTF_8));
            uploadDigests.put(id, new UploadDigest(sha256Digest(), 0));
            return id;
        } finally {
            lock.unlock();
        }
    }

    /** The upload's directory, once it is known to belong to that repository. */
    private Path ownedUpload(String name, String id) throws RegistryException, IOException {
        Path dir = upload(id);
        Names.repository(name);
        try {
            String owner = Files.readString(dir.resolve("repository"), StandardCharsets.UTF_8);
            if (owner.equals(name) && Files.isRegularFile(dir.resolve("data"))) {
                return dir;
            }
        } catch (NoSuchFileException e) {
            // unknown
        }
        throw new RegistryException(ErrorCode.BLOB_UPLOAD_UNKNOWN, "blob upload unknown to registry", id);
    }

    long uploadSize(String name, String id) throws RegistryException, IOException {
        synchronized (uploadLock(id)) {
            return Files.size(ownedUpload(name, id).resolve("data"));
        }
    }

    /**
     * Appends a chunk. With {@code start}, the chunk must begin at the current
     * offset (else 416); with {@code length}, exactly that many bytes must
     * arrive (else the chunk is discarded). Returns the new size.
     */
    long append(String name, String id, InputStream chunk, Long start, Long length) throws RegistryException, IOException {
        Lock lock = shared();
        try {
            synchronized (uploadLock(id)) {
                Path data = ownedUpload(name, id).resolve("data");
                long size = Files.size(data);
                if (start != null && start != size) {
                    throw new RangeMismatch(size);
                }
                // The digest is computed as the chunks arrive (on a copy, kept only if the chunk is), so
                // completing the upload need not read the blob again.
                UploadDigest known = uploadDigests.get(id);
                MessageDigest digest = known != null && known.size() == size ? clone(known.digest()) : null;
                try (FileChannel channel = FileChannel.open(data, StandardOpenOption.WRITE)) {
                    channel.position(size);
                    long written;
                    try {
                        written = copy(chunk, channel, digest);
                    } catch (IOException e) {
                        // nothing of a chunk that did not arrive whole stays: the upload can resume where it was
                        channel.truncate(size);
                        if (e instanceof EOFException) {
                            throw new RegistryException(ErrorCode.BLOB_UPLOAD_INVALID,
                                    "the request body ended before its Content-Length", String.valueOf(length));
                        }
                        throw e;
                    }
                    if (length != null && written != length) {
                        channel.truncate(size);
                        throw new RegistryException(ErrorCode.SIZE_INVALID, "the chunk has " + written
                                + " bytes, its Content-Range/Content-Length says " + length, null);
                    }
                    // Not synced here: completeUpload syncs the whole blob once, before it becomes visible.
                    if (digest != null) {
                        uploadDigests.put(id, new UploadDigest(digest, size + written));
                    } else {
                        uploadDigests.remove(id);
                    }
                    return size + written;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Finishes an upload: verifies the content against the digest and makes the blob visible in the repository. */
    void completeUpload(String name, String id, String digest) throws RegistryException, IOException {
        Names.digest(digest);
        Lock lock = shared();
        try {
            synchronized (uploadLock(id)) {
                Path dir = ownedUpload(name, id);
                Path data = dir.resolve("data");
                UploadDigest known = uploadDigests.remove(id);
                String actual = known != null && known.size() == Files.size(data)
                        ? "sha256:" + HexFormat.of().formatHex(known.digest().digest())
                        : sha256(data); // e.g. an upload begun before a restart
                try (FileChannel channel = FileChannel.open(data, StandardOpenOption.WRITE)) {
                    channel.force(true);
                }
                if (!actual.equals(digest)) {
                    throw new RegistryException(ErrorCode.DIGEST_INVALID,
                            "provided digest did not match uploaded content", "computed " + actual);
                }
                Path blob = blobPath(digest);
                if (Files.isRegularFile(blob)) {
                    Files.delete(data); // already stored, verified when it was
                } else {
                    moveIntoPlace(data, blob);
                }
                link(name, digest);
                DiskFiles.deleteTree(dir);
            }
        } finally {
            uploadLocks.remove(id);
            lock.unlock();
        }
    }

    void cancelUpload(String name, String id) throws RegistryException, IOException {
        uploadDigests.remove(id);
        synchronized (uploadLock(id)) {
            DiskFiles.deleteTree(ownedUpload(name, id));
        }
        uploadLocks.remove(id);
    }

    /** The sha256 state of an upload's first {@code size} bytes. */
    private record UploadDigest(MessageDigest digest, long size) {
    }

    private static MessageDigest clone(MessageDigest digest) {
        try {
            return (MessageDigest) digest.clone();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("the JDK's SHA-256 can be cloned", e);
        }
    }

    /** Copies a request body into the upload in large writes, updating the digest if there is one. */
    private static long copy(InputStream in, FileChannel channel, MessageDigest digest) throws IOException {
        byte[] buffer = new byte[256 * 1024];
        ByteBuffer wrapped = ByteBuffer.wrap(buffer);
        long total = 0;
        for (int n; (n = in.readNBytes(buffer, 0, buffer.length)) > 0;) {
            if (digest != null) {
                digest.update(buffer, 0, n);
            }
            wrapped.clear().limit(n);
            while (wrapped.hasRemaining()) {
                channel.write(wrapped);
            }
            total += n;
        }
        return total;
    }

    private Object uploadLock(String id) {
        return uploadLocks.computeIfAbsent(id, key -> new Object());
    }

    /** A chunk that does not start where the upload ends (416). */
    static final class RangeMismatch extends RegistryException {
        private static final long serialVersionUID = 1L;
        final long size;

        RangeMismatch(long size) {
            super(ErrorCode.BLOB_UPLOAD_INVALID, 416, "the chunk does not start at the end of the upload (" + size + ")", null);
            this.size = size;
        }
    }

    // ---------------------------------------------------------------- manifests

    /** Validates and stores a manifest under a tag or its digest; returns its digest. */
    String putManifest(String name, String reference, String contentType, byte[] content)
            throws RegistryException, IOException {
        Names.repository(name);
        String digest = sha256(content);
        boolean byDigest = Names.isDigest(reference);
        if (byDigest && !Names.digest(reference).equals(digest)) {
            throw new RegistryException(ErrorCode.DIGEST_INVALID, "the manifest's digest is not the reference", "computed " + digest);
        }
        if (!byDigest) {
            Names.tag(reference);
        }
        JsonNode manifest;
        try {
            manifest = json.readTree(content);
        } catch (IOException e) {
            throw new RegistryException(ErrorCode.MANIFEST_INVALID, "manifest is not valid JSON", null);
        }
        if (manifest == null || !manifest.isObject()) {
            throw new RegistryException(ErrorCode.MANIFEST_INVALID, "manifest is not a JSON object", null);
        }
        if (manifest.path("schemaVersion").asInt(-1) != 2 || !manifest.path("schemaVersion").isInt()) {
            throw new RegistryException(ErrorCode.MANIFEST_INVALID, "schemaVersion must be 2", null);
        }
        String declared = manifest.path("mediaType").isTextual() ? manifest.get("mediaType").textValue() : null;
        String mediaType = contentType != null && !contentType.isBlank() ? contentType : declared;
        if (mediaType == null) {
            throw new RegistryException(ErrorCode.MANIFEST_INVALID, "no Content-Type and no mediaType in the manifest", null);
        }
        if (declared != null && !declared.equals(mediaType)) {
            throw new RegistryException(ErrorCode.MANIFEST_INVALID,
                    "mediaType " + declared + " does not match Content-Type " + mediaType, null);
        }
        Lock lock = shared();
        try {
            if (MANIFEST_TYPES.contains(mediaType)) {
                JsonNode config = manifest.path("config");
                if (!config.isObject()) {
                    throw new RegistryException(ErrorCode.MANIFEST_INVALID, "manifest has no config", null);
                }
                requireBlob(name, config);
                JsonNode layers = manifest.path("layers");
                if (!layers.isArray()) {
                    throw new RegistryException(ErrorCode.MANIFEST_INVALID, "manifest has no layers array", null);
                }
                for (JsonNode layer : layers) {
                    if (!(FOREIGN_LAYERS.contains(layer.path("mediaType").asText()) && layer.path("urls").isArray())) {
                        requireBlob(name, layer);
                    }
                }
            } else if (INDEX_TYPES.contains(mediaType)) {
                JsonNode children = manifest.path("manifests");
                if (!children.isArray()) {
                    throw new RegistryException(ErrorCode.MANIFEST_INVALID, "index has no manifests array", null);
                }
                for (JsonNode child : children) {
                    String childDigest = descriptorDigest(child);
                    if (!Files.exists(revisionLink(name, childDigest))) {
                        throw new RegistryException(ErrorCode.MANIFEST_BLOB_UNKNOWN,
                                "manifest references a manifest unknown to the repository", childDigest);
                    }
                }
            } else {
                throw new RegistryException(ErrorCode.MANIFEST_INVALID, "unsupported manifest media type " + mediaType, null);
            }
            JsonNode subject = manifest.get("subject");
            if (subject != null) {
                descriptorDigest(subject);
            }
            Path blob = blobPath(digest);
            if (!Files.isRegularFile(blob)) {
                write(blob, content);
            }
            write(revisionLink(name, digest), mediaType.getBytes(StandardCharsets.UTF_8));
            if (!byDigest) {
                write(tagLink(name, reference), digest.getBytes(StandardCharsets.UTF_8));
            }
            return digest;
        } finally {
            lock.unlock();
        }
    }

    private void requireBlob(String name, JsonNode descriptor) throws RegistryException, IOException {
        String digest = descriptorDigest(descriptor);
        if (!Files.exists(layerLink(name, digest)) || !Files.isRegularFile(blobPath(digest))) {
            throw new RegistryException(ErrorCode.MANIFEST_BLOB_UNKNOWN, "blob unknown to registry", digest);
        }
    }

    private static String descriptorDigest(JsonNode descriptor) throws RegistryException {
        JsonNode digest = descriptor.path("digest");
        if (!digest.isTextual()) {
            throw new RegistryException(ErrorCode.MANIFEST_INVALID, "a descriptor has no digest", null);
        }
        try {
            return Names.digest(digest.textValue());
        } catch (RegistryException e) {
            throw new RegistryException(ErrorCode.MANIFEST_INVALID, "a descriptor has an invalid digest", digest.textValue());
        }
    }

    /** A manifest by tag or digest. */
    Optional<Manifest> manifest(String name, String reference) throws RegistryException, IOException {
        Lock lock = shared();
        try {
            String digest = resolve(name, reference);
            if (digest == null) {
                return Optional.empty();
            }
            Path link = revisionLink(name, digest);
            try {
                String mediaType = Files.readString(link, StandardCharsets.UTF_8);
                return Optional.of(new Manifest(digest, mediaType, Files.readAllBytes(blobPath(digest))));
            } catch (NoSuchFileException e) {
                return Optional.empty();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The digest a tag or digest reference names, or null. */
    private String resolve(String name, String reference) throws RegistryException, IOException {
        if (Names.isDigest(reference)) {
            return Names.digest(reference);
        }
        try {
            return Names.digest(Files.readString(tagLink(name, reference), StandardCharsets.UTF_8).trim());
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /**
     * Deletes a manifest by digest (with every tag pointing at it) or only a
     * tag (OCI distribution spec v1.1 tag deletion). False when unknown.
     */
    boolean deleteManifest(String name, String reference) throws RegistryException, IOException {
        Lock lock = shared();
        try {
            if (!Names.isDigest(reference)) {
                return Files.deleteIfExists(tagLink(name, reference));
            }
            String digest = Names.digest(reference);
            if (!Files.deleteIfExists(revisionLink(name, digest))) {
                return false;
            }
            for (String tag : tags(name)) {
                Path link = tagLink(name, tag);
                try {
                    if (Files.readString(link, StandardCharsets.UTF_8).trim().equals(digest)) {
                        Files.deleteIfExists(link);
                    }
                } catch (NoSuchFileException e) {
                    // gone meanwhile
                }
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    boolean repositoryExists(String name) throws RegistryException {
        Path repo = repo(name);
        return Files.isDirectory(repo.resolve("_layers")) || Files.isDirectory(repo.resolve("_manifests"));
    }

    /** Tags of a repository, sorted. */
    List<String> tags(String name) throws RegistryException, IOException {
        return listNames(repo(name).resolve("_manifests").resolve("tags"));
    }

    private List<String> revisions(String name) throws RegistryException, IOException {
        List<String> digests = new ArrayList<>();
        for (String hex : listNames(repo(name).resolve("_manifests").resolve("revisions").resolve("sha256"))) {
            digests.add("sha256:" + hex);
        }
        return digests;
    }

    private static List<String> listNames(Path dir) throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (!name.startsWith(".")) {
                    names.add(name);
                }
            }
        } catch (NoSuchFileException e) {
            return names;
        }
        Collections.sort(names);
        return names;
    }

    /** Every repository that has a blob or a manifest, sorted. */
    List<String> repositories() throws IOException {
        List<String> names = new ArrayList<>();
        Files.walkFileTree(repositories, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                String last = dir.equals(repositories) ? "" : dir.getFileName().toString();
                if (last.startsWith("_")) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                if (Files.isDirectory(dir.resolve("_layers")) || Files.isDirectory(dir.resolve("_manifests"))) {
                    names.add(repositories.relativize(dir).toString());
                }
                return FileVisitResult.CONTINUE;
            }
        });
        Collections.sort(names);
        return names;
    }

    /** An OCI image index of the repository's manifests whose subject is {@code digest}. */
    ObjectNode referrers(String name, String digest, String artifactType) throws RegistryException, IOException {
        Names.repository(name);
        Names.digest(digest);
        ObjectNode index = json.createObjectNode();
        index.put("schemaVersion", 2).put("mediaType", OCI_INDEX);
        ArrayNode manifests = index.putArray("manifests");
        Lock lock = shared();
        try {
            for (String revision : revisions(name)) {
                Optional<Manifest> stored = manifest(name, revision);
                if (stored.isEmpty()) {
                    continue;
                }
                JsonNode manifest;
                try {
                    manifest = json.readTree(stored.get().content());
                } catch (IOException e) {
                    continue;
                }
                if (!digest.equals(manifest.path("subject").path("digest").asText(null))) {
                    continue;
                }
                String type = manifest.path("artifactType").asText(null);
                if (type == null) {
                    type = manifest.path("config").path("mediaType").asText(null);
                }
                if (artifactType != null && !artifactType.equals(type)) {
                    continue;
                }
                ObjectNode descriptor = manifests.addObject();
                descriptor.put("mediaType", stored.get().mediaType())
                        .put("digest", revision)
                        .put("size", stored.get().content().length);
                if (type != null) {
                    descriptor.put("artifactType", type);
                }
                if (manifest.path("annotations").isObject()) {
                    descriptor.set("annotations", manifest.get("annotations"));
                }
            }
        } finally {
            lock.unlock();
        }
        return index;
    }

    // ---------------------------------------------------------------- garbage collection

    /** Deletes every blob no manifest of any repository references (see {@link #collectGarbage(Duration)}). */
    GarbageCollection collectGarbage() throws IOException {
        return collectGarbage(Duration.ZERO);
    }

    /**
     * Mark and sweep: marks every manifest revision of every repository with
     * its config and layers, deletes the other blobs older than
     * {@code minAge} (so blobs of a push whose manifest has not arrived yet
     * can be spared), and drops repository links to deleted blobs. Untagged
     * manifests are kept; uploads in progress are not touched.
     */
    GarbageCollection collectGarbage(Duration minAge) throws IOException {
        gcLock.writeLock().lock();
        try {
            Set<String> marked = new HashSet<>();
            for (String name : repositories()) {
                for (String revision : revisions(name)) {
                    marked.add(revision);
                    Path blob = blobPath(revision);
                    JsonNode manifest;
                    try {
                        manifest = json.readTree(Files.readAllBytes(blob));
                    } catch (IOException e) {
                        continue; // missing or corrupt: nothing it references can be known
                    }
                    addDigest(marked, manifest.path("config"));
                    manifest.path("layers").forEach(layer -> addDigest(marked, layer));
                    manifest.path("manifests").forEach(child -> addDigest(marked, child));
                }
            }
            Instant cutoff = Instant.now().minus(minAge);
            List<String> deleted = new ArrayList<>();
            long freed = 0;
            for (String hex : listNames(blobs)) {
                String digest = "sha256:" + hex;
                Path blob = blobs.resolve(hex);
                if (marked.contains(digest) || Files.getLastModifiedTime(blob).toInstant().isAfter(cutoff)) {
                    continue;
                }
                long size = Files.size(blob);
                if (Files.deleteIfExists(blob)) {
                    deleted.add(digest);
                    freed += size;
                }
            }
            for (String name : repositories()) {
                for (String hex : listNames(repo(name).resolve("_layers").resolve("sha256"))) {
                    if (!Files.exists(blobs.resolve(hex))) {
                        Files.deleteIfExists(repo(name).resolve("_layers").resolve("sha256").resolve(hex));
                    }
                }
            }
            return new GarbageCollection(List.copyOf(deleted), freed);
        } catch (RegistryException e) {
            throw new IOException(e.getMessage(), e);
        } finally {
            gcLock.writeLock().unlock();
        }
    }

    private static void addDigest(Set<String> marked, JsonNode descriptor) {
        String digest = descriptor.path("digest").asText("");
        try {
            marked.add(Names.digest(digest));
        } catch (RegistryException e) {
            // not a digest this registry stores
        }
    }

    // ---------------------------------------------------------------- helpers

    private Lock shared() {
        Lock lock = gcLock.readLock();
        lock.lock();
        return lock;
    }

    static String sha256(byte[] content) {
        return "sha256:" + HexFormat.of().formatHex(sha256Digest().digest(content));
    }

    static String sha256(Path file) throws IOException {
        MessageDigest digest = sha256Digest();
        byte[] buffer = new byte[64 * 1024];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0;) {
                digest.update(buffer, 0, n);
            }
        }
        return "sha256:" + HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@link DiskFiles#writeAtomically}, creating the folders it goes in. */
    private static void write(Path target, byte[] content) throws IOException {
        Files.createDirectories(target.getParent());
        DiskFiles.writeAtomically(target, content);
    }

    /** Renames a file that is already synced into place, replacing what is there, and syncs the folder. */
    private static void moveIntoPlace(Path source, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        try {
            Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the registry root must be one file system: " + e.getMessage(), e);
        }
        DiskFiles.syncDirectory(target.getParent());
    }
}
