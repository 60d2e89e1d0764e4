package io.berth.images;

import static io.berth.images.ImageIndex.familiar;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.images.ImageIndex.ImageRecord;
import io.berth.images.ImageIndex.Repositories;
import io.berth.spi.images.ContentStore;
import io.berth.spi.images.Reference;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Writes what {@code docker save} writes: one tar that is both a docker-archive (manifest.json, repositories)
 * and an OCI image layout (oci-layout, index.json, blobs/sha256/), with each layer's uncompressed tar. An image
 * whose layer tars were not kept cannot be saved.
 */
final class ArchiveWriter {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ImageIndex index;
    private final ContentStore content;
    private final ImageLayers layers;

    ArchiveWriter(ImageIndex index, ContentStore content, ImageLayers layers) {
        this.index = index;
        this.content = content;
        this.layers = layers;
    }

    /** Writes the named images (a repository without a tag: all its tags) to {@code out}, which stays open. */
    void save(List<String> namesOrIds, OutputStream out) throws IOException {
        if (namesOrIds.isEmpty()) {
            throw new IllegalArgumentException("nothing to save: no image names given");
        }
        Repositories repos = index.repositories();
        Map<String, LinkedHashSet<Reference>> chosen = new LinkedHashMap<>();
        for (String nameOrId : namesOrIds) {
            Reference ref = ImageIndex.parseReference(nameOrId);
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
            ImageRecord record = index.resolveId(nameOrId);
            if (record == null) {
                throw ImageIndex.noSuchImage(nameOrId);
            }
            chosen.computeIfAbsent(record.id(), k -> new LinkedHashSet<>());
        }
        List<ImageRecord> records = new ArrayList<>();
        for (String id : chosen.keySet()) {
            ImageRecord record = index.read(id);
            for (String diffId : record.diffIds()) {
                if (!layers.hasTar(record, diffId)) {
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
            manifest.set("config", Manifests.descriptor(Manifests.OCI_CONFIG, record.id(), configSize));
            ArrayNode layerDescriptors = manifest.putArray("layers");
            ObjectNode entry = JSON.createObjectNode();
            entry.put("Config", blobPath(record.id()));
            ArrayNode repoTags = entry.putArray("RepoTags");
            ArrayNode layerPaths = entry.putArray("Layers");
            for (String diffId : record.diffIds()) {
                long size = layers.tarSize(record, diffId);
                if (written.add(diffId)) {
                    entry(tar, blobPath(diffId), size, layers.openTar(record, diffId));
                }
                layerDescriptors.add(Manifests.descriptor(Manifests.OCI_LAYER, diffId, size));
                layerPaths.add(blobPath(diffId));
            }
            byte[] manifestBytes = JSON.writeValueAsBytes(manifest);
            String manifestDigest = Digests.sha256(manifestBytes);
            bytes(tar, blobPath(manifestDigest), manifestBytes, written.add(manifestDigest));
            Set<Reference> tags = chosen.get(record.id());
            for (Reference tag : tags) {
                repoTags.add(familiar(tag));
                ObjectNode indexEntry = Manifests.descriptor(Manifests.OCI_MANIFEST, manifestDigest, manifestBytes.length);
                ObjectNode annotations = indexEntry.putObject("annotations");
                annotations.put(ArchiveReader.CONTAINERD_NAME, tag.toString());
                annotations.put(ArchiveReader.OCI_REF_NAME, tag.tag());
                indexManifests.add(indexEntry);
                if (!record.diffIds().isEmpty()) {
                    legacyRepositories.computeIfAbsent(tag.familiarName(), k -> new TreeMap<>())
                            .put(tag.tag(), record.diffIds().get(record.diffIds().size() - 1).substring(7));
                }
            }
            if (tags.isEmpty()) {
                indexManifests.add(Manifests.descriptor(Manifests.OCI_MANIFEST, manifestDigest, manifestBytes.length));
            }
            manifestJson.add(entry);
        }
        ObjectNode ociIndex = JSON.createObjectNode();
        ociIndex.put("schemaVersion", 2);
        ociIndex.put("mediaType", Manifests.OCI_INDEX);
        ociIndex.set("manifests", indexManifests);
        bytes(tar, "index.json", JSON.writeValueAsBytes(ociIndex), true);
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
        entry(tar, blobPath(digest), content.size(digest), content.read(digest));
    }

    private static void entry(TarArchiveOutputStream tar, String name, long size, InputStream content)
            throws IOException {
        try (InputStream in = content) {
            TarArchiveEntry entry = new TarArchiveEntry(name);
            entry.setMode(0100644);
            entry.setModTime(0);
            entry.setSize(size);
            tar.putArchiveEntry(entry);
            in.transferTo(tar);
            tar.closeArchiveEntry();
        }
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
}
