package io.berth.images;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.spi.images.Reference;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Reads image archives for {@code load}: a {@code docker save} archive (manifest.json, repositories, configs,
 * layer tars; either layout, gzip layers too) or an OCI image layout (oci-layout, index.json, blobs/). The
 * archive is spooled into a directory first; every config and layer is checked against its digest and the
 * config's diff ids before anything goes into the stores. A malformed or hostile archive is an
 * {@link IOException} saying what is wrong.
 */
final class ArchiveReader {

    private static final ObjectMapper JSON = new ObjectMapper();
    static final String CONTAINERD_NAME = "io.containerd.image.name";
    static final String OCI_REF_NAME = "org.opencontainers.image.ref.name";

    /** An image found in an archive, verified and ready to go into the stores. */
    record Candidate(String id, byte[] config, List<Path> layerFiles, List<String> diffIds,
                     List<Reference> names, String created) {
    }

    private ArchiveReader() {
    }

    /** Spools the archive into {@code spool} (an empty directory) and returns the verified images in it. */
    static List<Candidate> read(InputStream archive, Path spool) throws IOException {
        spool(archive, spool);
        if (Files.isRegularFile(spool.resolve("manifest.json"))) {
            return dockerArchive(spool);
        } else if (Files.isRegularFile(spool.resolve("index.json"))
                && Files.isRegularFile(spool.resolve("oci-layout"))) {
            return ociLayout(spool);
        }
        throw new IOException("invalid image archive: it has neither manifest.json (docker save format)"
                + " nor oci-layout and index.json (OCI image layout)");
    }

    /**
     * Puts every regular member of the archive under {@code dir}; hostile names are refused. A link (skopeo's
     * docker-archive links {@code <id>/layer.tar} to {@code ../<digest>.tar}) is accepted only when it names a
     * regular file of the archive itself, and becomes a hard link to that file; any other link is refused.
     */
    private static void spool(InputStream archive, Path dir) throws IOException {
        InputStream in = LayerCompression.decompressed(new BufferedInputStream(archive));
        TarArchiveInputStream tar = new TarArchiveInputStream(in);
        TarArchiveEntry entry;
        Set<String> seen = new TreeSet<>();
        Map<String, String> links = new LinkedHashMap<>();
        while ((entry = tar.getNextEntry()) != null) {
            String name = memberName(entry.getName());
            if (entry.isSymbolicLink() || entry.isLink()) {
                if (!seen.add(name)) {
                    throw new IOException("invalid image archive: member " + entry.getName() + " appears twice");
                }
                links.put(name, linkTarget(entry, name));
                continue;
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
        for (Map.Entry<String, String> link : links.entrySet()) {
            Path source = dir.resolve(link.getValue());
            if (links.containsKey(link.getValue()) || !Files.isRegularFile(source, LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException("invalid image archive: member " + link.getKey() + " is a link to "
                        + link.getValue() + ", which is not a file of the archive");
            }
            Path target = dir.resolve(link.getKey());
            Files.createDirectories(target.getParent());
            ensureNoLinksBetween(dir, target.getParent());
            Files.createLink(target, source);
        }
    }

    /**
     * The member a link names: a symbolic link's target is relative to the link's directory, a hard link's to the
     * archive; one that leaves the archive is refused.
     */
    private static String linkTarget(TarArchiveEntry entry, String name) throws IOException {
        String raw = entry.getLinkName();
        String refused = "invalid image archive: member " + entry.getName() + " is a link to " + raw
                + ", outside the archive; only links to its own files are accepted";
        if (raw.isEmpty() || raw.startsWith("/") || raw.indexOf('\0') >= 0) {
            throw new IOException(refused);
        }
        List<String> parts = new ArrayList<>();
        if (entry.isSymbolicLink() && name.contains("/")) {
            parts.addAll(List.of(name.substring(0, name.lastIndexOf('/')).split("/")));
        }
        for (String part : raw.split("/")) {
            if (part.equals("..")) {
                if (parts.isEmpty()) {
                    throw new IOException(refused);
                }
                parts.remove(parts.size() - 1);
            } else if (!part.isEmpty() && !part.equals(".")) {
                parts.add(part);
            }
        }
        if (parts.isEmpty()) {
            throw new IOException(refused);
        }
        return String.join("/", parts);
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

    private static List<Candidate> dockerArchive(Path dir) throws IOException {
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
            String id = "sha256:" + Digests.sha256Hex(config);
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
                    String actual = "sha256:" + Digests.sha256Hex(file);
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

    private static List<Candidate> ociLayout(Path dir) throws IOException {
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

    private static Candidate ociImage(Path dir, Manifests.Descriptor descriptor, Manifests.Platform host, int depth)
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
        String actual = "sha256:" + Digests.sha256Hex(file);
        if (!actual.equals(descriptor.digest())) {
            throw new IOException("invalid OCI image layout: digest mismatch for " + path + ": content is " + actual);
        }
        return file;
    }

    /** Checks an image's layers against its config's rootfs.diff_ids. */
    private static Candidate candidate(String id, byte[] config, List<Path> layerFiles, List<Reference> names)
            throws IOException {
        if (!id.equals("sha256:" + Digests.sha256Hex(config))) {
            throw new IOException("invalid image archive: config digest mismatch: expected " + id
                    + ", content is sha256:" + Digests.sha256Hex(config));
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
            String got;
            try {
                got = "sha256:" + uncompressedSha256Hex(layerFiles.get(i));
            } catch (IOException e) {
                throw new IOException("invalid image archive: layer " + (i + 1) + " of image " + id
                        + " cannot be decompressed: " + e.getMessage(), e);
            }
            if (!got.equals(want)) {
                throw new IOException("invalid image archive: layer " + (i + 1) + " of image " + id
                        + " has diff id " + got + " but the config says " + want);
            }
            expected.add(want);
        }
        return new Candidate(id, config, layerFiles, expected, names, root.path("created").asText(""));
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
        return Digests.HEX64.matcher(last).matches() ? "sha256:" + last : null;
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


    private static String uncompressedSha256Hex(Path file) throws IOException {
        try (InputStream in = LayerCompression.decompressed(new BufferedInputStream(Files.newInputStream(file)))) {
            return Digests.sha256Hex(in);
        }
    }

    private static Reference parseName(String text) throws IOException {
        try {
            return Reference.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IOException("invalid image archive: bad image name \"" + text + "\": " + e.getMessage());
        }
    }
}
