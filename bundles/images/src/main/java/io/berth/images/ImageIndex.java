package io.berth.images;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.spi.images.Image;
import io.berth.spi.images.Reference;
import io.berth.storage.support.DiskFiles;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The image store's own files: one record per image and the names that point at images.
 * <ul>
 * <li>{@code <root>/imagedb/<id hex>.json}: one {@link ImageRecord} per image (its layer chain ids and diff ids,
 *     its size and creation time); the image's config is a blob in the content store, and the id is
 *     {@code sha256:} of that config;</li>
 * <li>{@code <root>/repositories.json}: every name (normalised reference, with a tag or a digest)
 *     and the image id it points at, like Docker's reference store.</li>
 * </ul>
 * Every file is written atomically (temporary file, fsync, rename, directory fsync). Not thread safe: the
 * image store serialises its callers.
 */
final class ImageIndex {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern HEX_PREFIX = Pattern.compile("(?:sha256:)?[0-9a-f]{4,64}");

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

    /** What {@code repositories.json} holds: normalised reference to image id. */
    record Repositories(TreeMap<String, String> references) {
    }

    private final Path imagedb;
    private final Path repositoriesFile;

    ImageIndex(Path root) throws IOException {
        this.imagedb = Files.createDirectories(root.resolve("imagedb"));
        this.repositoriesFile = root.resolve("repositories.json");
        // What a write interrupted by a crash left (see DiskFiles.writeAtomically).
        for (Path dir : List.of(imagedb, root)) {
            try (DirectoryStream<Path> partial = Files.newDirectoryStream(dir, DiskFiles.TEMP_PREFIX + "*")) {
                for (Path file : partial) {
                    Files.deleteIfExists(file);
                }
            }
        }
    }

    // ---------------------------------------------------------------- records

    List<ImageRecord> records() throws IOException {
        List<ImageRecord> result = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(imagedb, "*.json")) {
            for (Path file : files) {
                result.add(JSON.readValue(file.toFile(), ImageRecord.class));
            }
        }
        return result;
    }

    /** The record of an image, or null. */
    ImageRecord read(String id) throws IOException {
        Path file = recordFile(id);
        try {
            return JSON.readValue(Files.readAllBytes(file), ImageRecord.class);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    void write(ImageRecord record) throws IOException {
        DiskFiles.writeAtomically(recordFile(record.id()), JSON.writeValueAsBytes(record));
    }

    void delete(String id) throws IOException {
        Files.deleteIfExists(recordFile(id));
        DiskFiles.syncDirectory(imagedb);
    }

    /** Whether an image record refers to the blob (as its config, a layer tar, a compressed layer or a manifest). */
    boolean isKept(String digest) throws IOException {
        for (ImageRecord other : records()) {
            if (other.id().equals(digest) || other.diffIds().contains(digest) || other.extraBlobs().contains(digest)) {
                return true;
            }
        }
        return false;
    }

    private Path recordFile(String id) {
        if (!Digests.ID.matcher(id).matches()) {
            throw new IllegalArgumentException("invalid image id: " + id);
        }
        return imagedb.resolve(id.substring("sha256:".length()) + ".json");
    }

    // ---------------------------------------------------------------- names

    Repositories repositories() throws IOException {
        if (!Files.exists(repositoriesFile)) {
            return new Repositories(new TreeMap<>());
        }
        Repositories repos = JSON.readValue(repositoriesFile.toFile(), Repositories.class);
        return repos.references() == null ? new Repositories(new TreeMap<>()) : repos;
    }

    void writeRepositories(Repositories repos) throws IOException {
        DiskFiles.writeAtomically(repositoriesFile, JSON.writeValueAsBytes(repos));
    }

    /** Normalised references by image id, sorted. */
    Map<String, List<String>> namesById() throws IOException {
        Map<String, List<String>> result = new TreeMap<>();
        for (Map.Entry<String, String> entry : repositories().references().entrySet()) {
            result.computeIfAbsent(entry.getValue(), k -> new ArrayList<>()).add(entry.getKey());
        }
        return result;
    }

    // ---------------------------------------------------------------- lookup

    /** A name or an id (full, bare hex or a prefix of at least 4 hex digits) to its image, or null. */
    ImageRecord resolve(String nameOrId) throws IOException {
        if (nameOrId == null || nameOrId.isEmpty()) {
            return null;
        }
        Reference ref = parseReference(nameOrId);
        if (ref != null) {
            String id = repositories().references().get(ref.toString());
            if (id != null) {
                return read(id);
            }
        }
        ImageRecord byId = resolveId(nameOrId);
        if (byId == null && ref == null && !HEX_PREFIX.matcher(nameOrId).matches()) {
            Reference.parse(nameOrId); // throws, saying what is wrong with the name
        }
        return byId;
    }

    /** Like {@link #resolve}, but an unknown image is Docker's "No such image" error. */
    ImageRecord require(String nameOrId) throws IOException {
        ImageRecord record = resolve(nameOrId);
        if (record == null) {
            throw noSuchImage(nameOrId);
        }
        return record;
    }

    /** An id, bare hex or unambiguous hex prefix (4 digits at least) to its image, or null. */
    ImageRecord resolveId(String text) throws IOException {
        if (!HEX_PREFIX.matcher(text).matches()) {
            return null;
        }
        String hex = text.startsWith("sha256:") ? text.substring(7) : text;
        if (Digests.HEX64.matcher(hex).matches()) {
            return read("sha256:" + hex);
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
        return matches.isEmpty() ? null : read(matches.get(0));
    }

    /** The reference a text names, or null if it is not a valid reference (it may still be an id). */
    static Reference parseReference(String text) {
        if (Digests.ID.matcher(text).matches() || Digests.HEX64.matcher(text).matches()) {
            return null;
        }
        try {
            return Reference.parse(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The image as the SPI shows it, with its names split into tags and digests. */
    static Image toImage(ImageRecord record, List<String> names) {
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

    /** A reference as the docker CLI shows it ({@code busybox:latest}, {@code localhost:5000/app@sha256:...}). */
    static String familiar(Reference ref) {
        return ref.familiarName() + (ref.tag() == null ? "" : ":" + ref.tag())
                + (ref.digest() == null ? "" : "@" + ref.digest());
    }

    static NoSuchElementException noSuchImage(String name) {
        return new NoSuchElementException("No such image: " + name);
    }
}
