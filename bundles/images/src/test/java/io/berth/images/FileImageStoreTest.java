package io.berth.images;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.spi.images.Image;
import io.berth.spi.images.ImageUsers;
import io.berth.spi.images.Layer;
import io.berth.spi.storage.StorageDriver;
import io.berth.storage.vfs.VfsStorageDriver;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The image store over a real content store and a real layer store on a vfs driver. */
class FileImageStoreTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path temp;

    private Stores stores;

    /** One engine's worth of stores under a directory. */
    record Stores(FileContentStore content, FileLayerStore layers, FileImageStore images) {
        static Stores at(Path dir) throws IOException {
            return at(dir, imageId -> List.of());
        }

        /** Stores whose image store asks {@code users} which containers use an image. */
        static Stores at(Path dir, ImageUsers users) throws IOException {
            StorageDriver vfs = new VfsStorageDriver(dir.resolve("vfs"));
            FileContentStore content = new FileContentStore(dir.resolve("content"));
            FileLayerStore layers = new FileLayerStore(dir.resolve("layers"), new StorageDrivers() {
                @Override
                public StorageDriver byName(String name) {
                    return name.equals("vfs") ? vfs : null;
                }

                @Override
                public Set<String> activeNames() {
                    return Set.of("vfs");
                }
            }, () -> Optional.of("vfs"));
            return new Stores(content, layers, new FileImageStore(dir.resolve("store"), content, layers, () -> null,
                    users));
        }
    }

    /** A test image: its layer tars and config. */
    record TestImage(List<byte[]> layers, byte[] config) {
        String id() throws Exception {
            return "sha256:" + sha256(config);
        }

        String hex() throws Exception {
            return sha256(config);
        }

        @SafeVarargs
        static TestImage of(String created, Map<String, String>... layerFiles) throws Exception {
            List<byte[]> tars = new ArrayList<>();
            ObjectNode config = JSON.createObjectNode();
            config.put("architecture", "amd64");
            config.put("os", "linux");
            config.put("created", created);
            ObjectNode rootfs = config.putObject("rootfs");
            rootfs.put("type", "layers");
            ArrayNode diffIds = rootfs.putArray("diff_ids");
            for (Map<String, String> files : layerFiles) {
                byte[] tar = tar(files);
                tars.add(tar);
                diffIds.add("sha256:" + sha256(tar));
            }
            return new TestImage(tars, JSON.writeValueAsBytes(config));
        }
    }

    @BeforeEach
    void setUp() throws IOException {
        stores = Stores.at(temp.resolve("engine"));
    }

    private static TestImage busybox() throws Exception {
        return TestImage.of("2024-05-01T10:00:00Z", Map.of("bin/busybox", "busybox"), Map.of("etc/passwd", "root"));
    }

    // ------------------------------------------------------------ load, list, find

    @Test
    void aDockerArchiveLoadsWithItsLayersAndTags() throws Exception {
        TestImage image = busybox();
        List<Image> loaded = stores.images().load(new ByteArrayInputStream(
                dockerArchive(true, false, Map.of(image, List.of("busybox:latest", "busybox:1")))));

        assertEquals(1, loaded.size());
        assertEquals(image.id(), loaded.get(0).id());
        assertEquals(List.of("busybox:1", "busybox:latest"), loaded.get(0).repoTags());
        List<Image> all = stores.images().list();
        assertEquals(1, all.size());
        Image listed = all.get(0);
        assertEquals("2024-05-01T10:00:00Z", listed.created());
        assertEquals(2, listed.layers().size());
        assertTrue(listed.size() > 0);

        for (String name : List.of("busybox", "busybox:1", "docker.io/library/busybox:latest", image.id(),
                image.hex(), image.hex().substring(0, 12), image.hex().substring(0, 4), "sha256:" + image.hex().substring(0, 8))) {
            Image found = stores.images().find(name);
            assertNotNull(found, name);
            assertEquals(image.id(), found.id(), name);
        }
        assertNull(stores.images().find("alpine"));
        assertNull(stores.images().find((image.hex().charAt(0) == 'f' ? "0" : "f") + image.hex().substring(1, 12)));
        assertArrayEquals(image.config(), stores.images().config(image.id()));

        List<Layer> layers = stores.layers().layers();
        assertEquals(2, layers.size());
        assertEquals(listed.layers(), layers.stream().map(Layer::chainId).toList());
        assertEquals(1, layers.get(0).references(), "the base is held by its child only");
        assertEquals(1, layers.get(1).references(), "the image holds its top layer once");
        assertEquals(layers.get(0).diffId(), "sha256:" + sha256(image.layers().get(0)));
    }

    @Test
    void legacyLayerPathsAndGzippedLayersAreAccepted() throws Exception {
        TestImage image = busybox();
        stores.images().load(new ByteArrayInputStream(
                dockerArchive(false, true, Map.of(image, List.of("localhost:5000/tools/box:v2")))));
        Image found = stores.images().find("localhost:5000/tools/box:v2");
        assertNotNull(found);
        assertEquals(image.id(), found.id());
        assertEquals(List.of("localhost:5000/tools/box:v2"), found.repoTags());
        assertEquals(2, stores.layers().layers().size());
    }

    @Test
    void loadingTheSameImageAgainTakesNoExtraLayerReference() throws Exception {
        TestImage image = busybox();
        byte[] archive = dockerArchive(true, false, Map.of(image, List.of("busybox:latest")));
        stores.images().load(new ByteArrayInputStream(archive));
        stores.images().load(new ByteArrayInputStream(archive));
        assertEquals(1, stores.images().list().size());
        assertEquals(List.of(1, 1), stores.layers().layers().stream().map(Layer::references).toList());
        stores.images().remove("busybox", false);
        assertTrue(stores.layers().layers().isEmpty());
    }

    @Test
    void listIsNewestFirst() throws Exception {
        TestImage old = TestImage.of("2020-01-01T00:00:00Z", Map.of("a", "a"));
        TestImage young = TestImage.of("2023-01-01T00:00:00+01:00", Map.of("b", "b"));
        Map<TestImage, List<String>> images = new LinkedHashMap<>();
        images.put(old, List.of("old:1"));
        images.put(young, List.of("young:1"));
        stores.images().load(new ByteArrayInputStream(dockerArchive(true, false, images)));
        assertEquals(List.of(young.id(), old.id()), stores.images().list().stream().map(Image::id).toList());
    }

    @Test
    void anAmbiguousIdPrefixIsAnErrorNamingTheMatches() throws Exception {
        Map<String, TestImage> byPrefix = new HashMap<>();
        TestImage first = null;
        TestImage second = null;
        for (int i = 0; second == null; i++) {
            TestImage candidate = TestImage.of("2024-01-01T00:00:" + String.format("%02d", i % 60) + "." + i + "Z",
                    Map.of("f", "f"));
            TestImage clash = byPrefix.putIfAbsent(candidate.hex().substring(0, 4), candidate);
            if (clash != null) {
                first = clash;
                second = candidate;
            }
        }
        Map<TestImage, List<String>> images = new LinkedHashMap<>();
        images.put(first, List.of());
        images.put(second, List.of());
        stores.images().load(new ByteArrayInputStream(dockerArchive(true, false, images)));
        String prefix = first.hex().substring(0, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> stores.images().find(prefix));
        assertTrue(e.getMessage().contains(first.id()) && e.getMessage().contains(second.id()), e.getMessage());
        assertEquals(first.id(), stores.images().find(first.hex().substring(0, 20)).id());
    }

    // ------------------------------------------------------------ tag, remove, prune

    @Test
    void tagAddsANameAndMovesAnExistingOne() throws Exception {
        TestImage a = busybox();
        TestImage b = TestImage.of("2024-06-01T00:00:00Z", Map.of("x", "x"));
        Map<TestImage, List<String>> images = new LinkedHashMap<>();
        images.put(a, List.of("busybox:latest"));
        images.put(b, List.of("other:latest"));
        stores.images().load(new ByteArrayInputStream(dockerArchive(true, false, images)));

        stores.images().tag("busybox", "me/box:v1");
        assertEquals(List.of("busybox:latest", "me/box:v1"), stores.images().find(a.id()).repoTags());
        stores.images().tag("other", "me/box:v1");
        assertEquals(List.of("busybox:latest"), stores.images().find(a.id()).repoTags());
        assertEquals(b.id(), stores.images().find("me/box:v1").id());

        assertThrows(NoSuchElementException.class, () -> stores.images().tag("nothing", "x:y"));
        assertThrows(IllegalArgumentException.class, () -> stores.images().tag("busybox", "Bad:name"));
    }

    @Test
    void removeUntagsUntilTheLastNameThenDeletesTheImageAndItsLayers() throws Exception {
        TestImage image = busybox();
        stores.images().load(new ByteArrayInputStream(
                dockerArchive(true, false, Map.of(image, List.of("busybox:latest", "busybox:1")))));
        List<String> chain = stores.images().find("busybox").layers();

        assertEquals(List.of("Untagged: busybox:1"), stores.images().remove("busybox:1", false));
        assertEquals(2, stores.layers().layers().size());
        assertEquals(List.of("Untagged: busybox:latest", "Deleted: " + image.id(),
                "Deleted: " + chain.get(1), "Deleted: " + chain.get(0)), stores.images().remove("busybox", false));
        assertTrue(stores.images().list().isEmpty());
        assertTrue(stores.layers().layers().isEmpty(), "the layers went with the image");
        assertTrue(stores.content().list().isEmpty(), "config and layer blobs went too");
        assertThrows(NoSuchElementException.class, () -> stores.images().remove("busybox", false));
    }

    @Test
    void removeByIdWithNamesInSeveralRepositoriesNeedsForce() throws Exception {
        TestImage image = busybox();
        stores.images().load(new ByteArrayInputStream(
                dockerArchive(true, false, Map.of(image, List.of("busybox:latest", "busybox:1")))));
        stores.images().tag("busybox", "mine:v1");

        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> stores.images().remove(image.hex().substring(0, 12), false));
        assertEquals("conflict: unable to delete " + image.hex().substring(0, 12)
                + " (must be forced) - image is referenced in multiple repositories", e.getMessage());
        assertEquals(3, stores.images().find(image.id()).repoTags().size());

        List<String> out = stores.images().remove(image.id(), true);
        assertEquals(List.of("Untagged: busybox:1", "Untagged: busybox:latest", "Untagged: mine:v1",
                "Deleted: " + image.id()), out.subList(0, 4));
        assertTrue(stores.images().list().isEmpty());
        assertTrue(stores.layers().layers().isEmpty());
    }

    @Test
    void removeByIdWithTwoTagsOfOneRepositoryNeedsForceToo() throws Exception {
        // As Docker: more than one tag is "referenced in multiple repositories", even within one repository.
        TestImage image = busybox();
        stores.images().load(new ByteArrayInputStream(
                dockerArchive(true, false, Map.of(image, List.of("busybox:latest", "busybox:1")))));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> stores.images().remove(image.hex(), false));
        assertEquals("conflict: unable to delete " + image.hex().substring(0, 12)
                + " (must be forced) - image is referenced in multiple repositories", e.getMessage());
        assertEquals(2, stores.images().find(image.id()).repoTags().size());

        // One tag left: by id it untags and deletes without force.
        stores.images().remove("busybox:1", false);
        List<String> out = stores.images().remove(image.hex(), false);
        assertEquals(List.of("Untagged: busybox:latest", "Deleted: " + image.id()), out.subList(0, 2));
        assertTrue(stores.layers().layers().isEmpty());
    }

    @Test
    void sharedLayersStayWhileAnotherImageUsesThem() throws Exception {
        TestImage a = TestImage.of("2024-01-01T00:00:00Z", Map.of("base", "base"), Map.of("a", "a"));
        TestImage b = TestImage.of("2024-01-02T00:00:00Z", Map.of("base", "base"), Map.of("b", "b"));
        Map<TestImage, List<String>> images = new LinkedHashMap<>();
        images.put(a, List.of("a:1"));
        images.put(b, List.of("b:1"));
        stores.images().load(new ByteArrayInputStream(dockerArchive(true, false, images)));
        assertEquals(3, stores.layers().layers().size());

        List<String> out = stores.images().remove("a:1", false);
        assertEquals(3, out.size(), "untagged, image and its top layer deleted: " + out);
        assertEquals(2, stores.layers().layers().size());
        assertEquals(b.id(), stores.images().find("b:1").id());
        ByteArrayOutputStream saved = new ByteArrayOutputStream();
        stores.images().save(List.of("b:1"), saved); // the shared base layer's content is still there
        stores.images().remove("b:1", false);
        assertTrue(stores.layers().layers().isEmpty());
        assertTrue(stores.content().list().isEmpty());
    }

    @Test
    void pruneDeletesImagesWithoutNames() throws Exception {
        TestImage a = busybox();
        TestImage b = TestImage.of("2024-06-01T00:00:00Z", Map.of("x", "x"));
        stores.images().load(new ByteArrayInputStream(dockerArchive(true, false, Map.of(a, List.of("box:latest")))));
        stores.images().load(new ByteArrayInputStream(dockerArchive(true, false, Map.of(b, List.of("box:latest")))));
        assertEquals(List.of(), stores.images().find(a.id()).repoTags(), "the name moved to the new image");

        assertEquals(List.of(a.id()), stores.images().prune());
        assertEquals(List.of(b.id()), stores.images().list().stream().map(Image::id).toList());
        assertEquals(1, stores.layers().layers().size());
        assertEquals(List.of(), stores.images().prune());
    }

    // ------------------------------------------------------------ save

    @Test
    void saveThenLoadIntoAFreshEngineGivesTheSameImage() throws Exception {
        TestImage image = busybox();
        stores.images().load(new ByteArrayInputStream(
                dockerArchive(false, true, Map.of(image, List.of("busybox:latest", "busybox:1")))));
        stores.images().tag("busybox", "other:v1");
        ByteArrayOutputStream saved = new ByteArrayOutputStream();
        stores.images().save(List.of("busybox"), saved);

        Map<String, byte[]> members = untar(saved.toByteArray());
        assertTrue(members.keySet().containsAll(List.of("manifest.json", "index.json", "oci-layout", "repositories",
                "blobs/sha256/" + image.hex())), members.keySet().toString());
        var manifest = JSON.readTree(members.get("manifest.json"));
        assertEquals("blobs/sha256/" + image.hex(), manifest.get(0).get("Config").asText());
        assertEquals(List.of("busybox:latest", "busybox:1").stream().sorted().toList(),
                JSON.convertValue(manifest.get(0).get("RepoTags"), List.class).stream().sorted().toList());
        assertEquals("blobs/sha256/" + sha256(image.layers().get(0)), manifest.get(0).get("Layers").get(0).asText());

        Stores fresh = Stores.at(temp.resolve("fresh"));
        List<Image> loaded = fresh.images().load(new ByteArrayInputStream(saved.toByteArray()));
        assertEquals(1, loaded.size());
        Image original = stores.images().find(image.id());
        Image copy = fresh.images().find("busybox:1");
        assertEquals(original.id(), copy.id());
        assertEquals(List.of("busybox:1", "busybox:latest"), copy.repoTags());
        assertEquals(original.layers(), copy.layers());
        assertEquals(original.created(), copy.created());

        // The saved archive is also a valid OCI layout.
        Map<String, byte[]> oci = new TreeMap<>(members);
        oci.remove("manifest.json");
        oci.remove("repositories");
        Stores third = Stores.at(temp.resolve("third"));
        third.images().load(new ByteArrayInputStream(tar(oci)));
        assertEquals(image.id(), third.images().find("busybox:latest").id());
    }

    @Test
    void saveByIdWritesAnUntaggedImage() throws Exception {
        TestImage image = busybox();
        stores.images().load(new ByteArrayInputStream(
                dockerArchive(true, false, Map.of(image, List.of("busybox:latest")))));
        ByteArrayOutputStream saved = new ByteArrayOutputStream();
        stores.images().save(List.of(image.hex().substring(0, 12)), saved);
        var manifest = JSON.readTree(untar(saved.toByteArray()).get("manifest.json"));
        assertEquals(0, manifest.get(0).get("RepoTags").size());
        assertThrows(NoSuchElementException.class, () -> stores.images().save(List.of("nothing"), saved));
    }

    // ------------------------------------------------------------ refusals

    @Test
    void aConfigDigestMismatchIsRefusedAndChangesNothing() throws Exception {
        Snapshot before = preload();
        TestImage image = busybox();
        Map<String, byte[]> members = new TreeMap<>(dockerArchiveMembers(true, false, Map.of(image, List.of("x:1"))));
        byte[] config = members.remove("blobs/sha256/" + image.hex());
        String wrong = sha256("something else".getBytes(StandardCharsets.UTF_8));
        members.put("blobs/sha256/" + wrong, config);
        members.put("manifest.json", new String(members.get("manifest.json"), StandardCharsets.UTF_8)
                .replace(image.hex(), wrong).getBytes(StandardCharsets.UTF_8));
        IOException e = assertThrows(IOException.class,
                () -> stores.images().load(new ByteArrayInputStream(tar(members))));
        assertTrue(e.getMessage().contains("config digest mismatch"), e.getMessage());
        assertEquals(before, snapshot());
    }

    @Test
    void aDiffIdMismatchIsRefusedAndChangesNothing() throws Exception {
        Snapshot before = preload();
        TestImage good = busybox();
        List<byte[]> layers = new ArrayList<>(good.layers());
        layers.set(1, tar(Map.of("etc/passwd", "tampered")));
        TestImage bad = new TestImage(layers, good.config());
        IOException e = assertThrows(IOException.class, () -> stores.images().load(new ByteArrayInputStream(
                dockerArchive(false, false, Map.of(bad, List.of("x:1"))))));
        assertTrue(e.getMessage().contains("layer 2") && e.getMessage().contains("diff id"), e.getMessage());
        assertEquals(before, snapshot());
    }

    @Test
    void hostileMemberNamesAndLinksAreRefused() throws Exception {
        Snapshot before = preload();
        TestImage image = busybox();
        for (String hostile : List.of("../escape", "blobs/../../escape", "/etc/evil")) {
            Map<String, byte[]> members = new TreeMap<>(dockerArchiveMembers(true, false, Map.of(image, List.of("x:1"))));
            members.put(hostile, "boom".getBytes(StandardCharsets.UTF_8));
            IOException e = assertThrows(IOException.class,
                    () -> stores.images().load(new ByteArrayInputStream(tar(members))), hostile);
            assertTrue(e.getMessage().contains(hostile), e.getMessage());
            assertEquals(before, snapshot());
        }
        assertTrue(Files.notExists(temp.resolve("engine/store/escape")));
        assertTrue(Files.notExists(temp.resolve("engine/escape")));

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            TarArchiveEntry link = new TarArchiveEntry("manifest.json", TarArchiveEntry.LF_SYMLINK);
            link.setLinkName("/etc/passwd");
            tar.putArchiveEntry(link);
            tar.closeArchiveEntry();
        }
        IOException e = assertThrows(IOException.class,
                () -> stores.images().load(new ByteArrayInputStream(bytes.toByteArray())));
        assertTrue(e.getMessage().contains("link"), e.getMessage());
        assertEquals(before, snapshot());
    }

    @Test
    void linksToFilesOfTheArchiveAreFollowedAsSkopeoWritesThemAndOthersRefused() throws Exception {
        TestImage image = busybox();
        Map<String, byte[]> members = dockerArchiveMembers(false, false, Map.of(image, List.of("linked:1")));
        // skopeo: <id>/layer.tar is a symbolic link to ../<digest>.tar, which holds the layer.
        Map<String, String> links = new TreeMap<>();
        for (String name : new ArrayList<>(members.keySet())) {
            if (name.endsWith("/layer.tar")) {
                String digest = name.substring(0, name.indexOf('/'));
                members.put(digest + ".tar", members.remove(name));
                links.put(name, "../" + digest + ".tar");
            }
        }
        assertEquals(image.id(), stores.images().load(new ByteArrayInputStream(withLinks(members, links))).get(0).id());
        assertEquals(image.id(), stores.images().find("linked:1").id());

        Snapshot before = snapshot();
        for (String target : List.of("../../etc/passwd", "/etc/passwd", "../missing.tar")) {
            Map<String, String> bad = new TreeMap<>(links);
            bad.put(bad.keySet().iterator().next(), target);
            IOException e = assertThrows(IOException.class,
                    () -> stores.images().load(new ByteArrayInputStream(withLinks(members, bad))), target);
            assertTrue(e.getMessage().contains("is a link to " + (target.equals("../missing.tar") ? "missing.tar"
                    : target)), e.getMessage());
            assertEquals(before, snapshot());
        }
    }

    /** A tar of the members, then symbolic links (name to target). */
    private static byte[] withLinks(Map<String, byte[]> members, Map<String, String> links) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Map.Entry<String, String> link : links.entrySet()) {
                TarArchiveEntry entry = new TarArchiveEntry(link.getKey(), TarArchiveEntry.LF_SYMLINK);
                entry.setLinkName(link.getValue());
                tar.putArchiveEntry(entry);
                tar.closeArchiveEntry();
            }
            for (Map.Entry<String, byte[]> member : members.entrySet()) {
                TarArchiveEntry entry = new TarArchiveEntry(member.getKey());
                entry.setSize(member.getValue().length);
                tar.putArchiveEntry(entry);
                tar.write(member.getValue());
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    @Test
    void anArchiveWithoutManifestIsRefused() throws Exception {
        Snapshot before = preload();
        TestImage image = busybox();
        Map<String, byte[]> members = new TreeMap<>(dockerArchiveMembers(true, false, Map.of(image, List.of("x:1"))));
        members.remove("manifest.json");
        IOException e = assertThrows(IOException.class,
                () -> stores.images().load(new ByteArrayInputStream(tar(members))));
        assertTrue(e.getMessage().contains("manifest.json"), e.getMessage());
        assertEquals(before, snapshot());
    }

    @Test
    void aMissingLayerIsRefused() throws Exception {
        Snapshot before = preload();
        TestImage image = busybox();
        Map<String, byte[]> members = new TreeMap<>(dockerArchiveMembers(true, false, Map.of(image, List.of("x:1"))));
        members.remove("blobs/sha256/" + sha256(image.layers().get(1)));
        IOException e = assertThrows(IOException.class,
                () -> stores.images().load(new ByteArrayInputStream(tar(members))));
        assertTrue(e.getMessage().contains("not in the archive"), e.getMessage());
        assertEquals(before, snapshot());
    }

    @Test
    void aGzippedArchiveIsAccepted() throws Exception {
        TestImage image = busybox();
        stores.images().load(new ByteArrayInputStream(
                gzip(dockerArchive(true, false, Map.of(image, List.of("busybox:latest"))))));
        assertEquals(image.id(), stores.images().find("busybox").id());
    }

    @Test
    void aLayerStoreFailureHalfwayLeavesNothingBehind() throws Exception {
        Snapshot before = preload();
        FileLayerStore real = stores.layers();
        int[] registered = {0};
        // The real store, except that the third register fails.
        io.berth.spi.images.LayerStore failing = (io.berth.spi.images.LayerStore) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {io.berth.spi.images.LayerStore.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("register") && ++registered[0] == 3) {
                        throw new IOException("disk full");
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        FileImageStore images = new FileImageStore(temp.resolve("engine/store"), stores.content(), failing);
        TestImage a = TestImage.of("2024-01-01T00:00:00Z", Map.of("a1", "a1"), Map.of("a2", "a2"));
        TestImage b = TestImage.of("2024-01-02T00:00:00Z", Map.of("bin/busybox", "busybox"), Map.of("b2", "b2"));
        Map<TestImage, List<String>> both = new LinkedHashMap<>();
        both.put(a, List.of("a:1"));
        both.put(b, List.of("b:1"));
        IOException e = assertThrows(IOException.class,
                () -> images.load(new ByteArrayInputStream(dockerArchive(true, false, both))));
        assertEquals("disk full", e.getMessage());
        assertEquals(before, snapshot());
    }

    // ------------------------------------------------------------ OCI layout

    @Test
    void anOciLayoutWithANestedIndexLoadsTheHostPlatform() throws Exception {
        TestImage image = busybox();
        TestImage foreign = TestImage.of("2024-05-01T10:00:00Z", Map.of("foreign", "foreign"));
        Map<String, byte[]> members = new TreeMap<>();
        members.put("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
        ObjectNode hostManifest = ociManifest(image, members, true);
        ObjectNode foreignManifest = ociManifest(foreign, members, false);
        Manifests.Platform host = Manifests.Platform.host();

        ObjectNode nested = JSON.createObjectNode();
        nested.put("schemaVersion", 2);
        nested.put("mediaType", Manifests.OCI_INDEX);
        ArrayNode entries = nested.putArray("manifests");
        ObjectNode other = blob(members, JSON.writeValueAsBytes(foreignManifest), Manifests.OCI_MANIFEST);
        other.putObject("platform").put("os", "linux").put("architecture", host.architecture().equals("s390x") ? "ppc64le" : "s390x");
        entries.add(other);
        ObjectNode mine = blob(members, JSON.writeValueAsBytes(hostManifest), Manifests.OCI_MANIFEST);
        ObjectNode platform = mine.putObject("platform").put("os", host.os()).put("architecture", host.architecture());
        if (host.variant() != null) {
            platform.put("variant", host.variant());
        }
        entries.add(mine);

        ObjectNode index = JSON.createObjectNode();
        index.put("schemaVersion", 2);
        ArrayNode top = index.putArray("manifests");
        ObjectNode named = blob(members, JSON.writeValueAsBytes(nested), Manifests.OCI_INDEX);
        named.putObject("annotations").put("io.containerd.image.name", "docker.io/library/busybox:1.36")
                .put("org.opencontainers.image.ref.name", "1.36");
        top.add(named);
        ObjectNode byRefName = blob(members, JSON.writeValueAsBytes(nested), Manifests.OCI_INDEX);
        byRefName.putObject("annotations").put("org.opencontainers.image.ref.name", "example.com/box:stable");
        top.add(byRefName);
        members.put("index.json", JSON.writeValueAsBytes(index));

        List<Image> loaded = stores.images().load(new ByteArrayInputStream(tar(members)));
        assertEquals(1, loaded.size());
        assertEquals(image.id(), loaded.get(0).id());
        assertEquals(List.of("busybox:1.36", "example.com/box:stable"), loaded.get(0).repoTags());
        assertEquals(2, stores.layers().layers().size());
        assertEquals(image.id(), stores.images().find("busybox:1.36").id());
    }

    @Test
    void anOciLayoutWithZstdLayersLoadsAndSavesTheUncompressedTars() throws Exception {
        TestImage image = busybox();
        Map<String, byte[]> members = new TreeMap<>();
        members.put("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", Manifests.OCI_MANIFEST);
        manifest.set("config", blob(members, image.config(), Manifests.OCI_CONFIG));
        ArrayNode layers = manifest.putArray("layers");
        for (byte[] layer : image.layers()) {
            layers.add(blob(members, zstd(layer), Manifests.OCI_LAYER + "+zstd"));
        }
        members.put("index.json", JSON.writeValueAsBytes(ociIndex(blob(members, JSON.writeValueAsBytes(manifest),
                Manifests.OCI_MANIFEST), "box:zstd")));

        List<Image> loaded = stores.images().load(new ByteArrayInputStream(tar(members)));
        assertEquals(image.id(), loaded.get(0).id());
        assertEquals(List.of("box:zstd"), loaded.get(0).repoTags());
        assertEquals(2, stores.layers().layers().size());
        ByteArrayOutputStream saved = new ByteArrayOutputStream();
        stores.images().save(List.of("box:zstd"), saved);
        Map<String, byte[]> archive = untar(saved.toByteArray());
        for (byte[] layer : image.layers()) {
            assertArrayEquals(layer, archive.get("blobs/sha256/" + sha256(layer)));
        }
    }

    @Test
    void aZstdLayerOfSeveralFramesInADockerArchiveLoads() throws Exception {
        TestImage image = TestImage.of("2024-05-01T10:00:00Z", Map.of("a", "a".repeat(5000), "b", "b".repeat(5000)));
        byte[] layer = image.layers().get(0);
        // Two frames one after the other, as a stream compressed in pieces is written.
        ByteArrayOutputStream frames = new ByteArrayOutputStream();
        frames.write(zstd(java.util.Arrays.copyOfRange(layer, 0, 3000)));
        frames.write(zstd(java.util.Arrays.copyOfRange(layer, 3000, layer.length)));
        Map<String, byte[]> members = dockerArchiveMembers(false, false, Map.of(image, List.of("frames:1")));
        members.put(sha256(layer) + "/layer.tar", frames.toByteArray());

        assertEquals(image.id(), stores.images().load(new ByteArrayInputStream(tar(members))).get(0).id());
        assertEquals(image.id(), stores.images().find("frames:1").id());
    }

    @Test
    void aCorruptZstdLayerIsRefusedAndChangesNothing() throws Exception {
        Snapshot before = preload();
        TestImage image = busybox();
        Map<String, byte[]> members = dockerArchiveMembers(false, false, Map.of(image, List.of("bad:zstd")));
        String layerPath = sha256(image.layers().get(0)) + "/layer.tar";
        byte[] compressed = zstd(image.layers().get(0));
        members.put(layerPath, java.util.Arrays.copyOf(compressed, compressed.length - 8)); // truncated
        IOException e = assertThrows(IOException.class,
                () -> stores.images().load(new ByteArrayInputStream(tar(members))));
        assertTrue(e.getMessage().contains("layer 1 of image " + image.id() + " cannot be decompressed"),
                e.getMessage());
        assertEquals(before, snapshot());
    }

    @Test
    void anOciBlobWithTheWrongDigestIsRefused() throws Exception {
        Snapshot before = preload();
        TestImage image = busybox();
        Map<String, byte[]> members = new TreeMap<>();
        members.put("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
        ObjectNode manifest = ociManifest(image, members, false);
        ObjectNode index = JSON.createObjectNode();
        index.put("schemaVersion", 2);
        index.putArray("manifests").add(blob(members, JSON.writeValueAsBytes(manifest), Manifests.OCI_MANIFEST));
        members.put("index.json", JSON.writeValueAsBytes(index));
        String layerPath = "blobs/sha256/" + sha256(image.layers().get(0));
        byte[] layer = members.get(layerPath).clone();
        layer[layer.length - 1] ^= 1;
        members.put(layerPath, layer);
        IOException e = assertThrows(IOException.class,
                () -> stores.images().load(new ByteArrayInputStream(tar(members))));
        assertTrue(e.getMessage().contains("digest mismatch"), e.getMessage());
        assertEquals(before, snapshot());
    }

    // ------------------------------------------------------------ helpers

    record Snapshot(List<Image> images, List<Layer> layers, List<String> blobs) {
    }

    private Snapshot preload() throws Exception {
        TestImage other = TestImage.of("2023-01-01T00:00:00Z", Map.of("bin/busybox", "busybox"), Map.of("o", "o"));
        stores.images().load(new ByteArrayInputStream(dockerArchive(true, false, Map.of(other, List.of("other:1")))));
        return snapshot();
    }

    private Snapshot snapshot() throws IOException {
        return new Snapshot(stores.images().list(), stores.layers().layers(), stores.content().list());
    }

    /** A docker save archive; layers at blobs/sha256/ (Docker 25+) or <id>/layer.tar (legacy), maybe gzipped. */
    static byte[] dockerArchive(boolean blobs, boolean gzip, Map<TestImage, List<String>> images)
            throws Exception {
        return tar(dockerArchiveMembers(blobs, gzip, images));
    }

    private static Map<String, byte[]> dockerArchiveMembers(boolean blobs, boolean gzip,
                                                            Map<TestImage, List<String>> images) throws Exception {
        Map<String, byte[]> members = new LinkedHashMap<>();
        ArrayNode manifest = JSON.createArrayNode();
        for (Map.Entry<TestImage, List<String>> entry : images.entrySet()) {
            TestImage image = entry.getKey();
            ObjectNode item = manifest.addObject();
            String configPath = blobs ? "blobs/sha256/" + image.hex() : image.hex() + ".json";
            members.put(configPath, image.config());
            item.put("Config", configPath);
            ArrayNode tags = item.putArray("RepoTags");
            entry.getValue().forEach(tags::add);
            ArrayNode layers = item.putArray("Layers");
            for (byte[] layer : image.layers()) {
                byte[] data = gzip ? gzip(layer) : layer;
                String path = blobs ? "blobs/sha256/" + sha256(data) : sha256(data) + "/layer.tar";
                members.put(path, data);
                layers.add(path);
            }
        }
        members.put("manifest.json", JSON.writeValueAsBytes(manifest));
        return members;
    }

    /** Adds an OCI manifest's config and (gzipped or not) layers to the members; returns the manifest. */
    private static ObjectNode ociManifest(TestImage image, Map<String, byte[]> members, boolean gzip) throws Exception {
        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", Manifests.OCI_MANIFEST);
        manifest.set("config", blob(members, image.config(), Manifests.OCI_CONFIG));
        ArrayNode layers = manifest.putArray("layers");
        for (byte[] layer : image.layers()) {
            layers.add(gzip ? blob(members, gzip(layer), "application/vnd.oci.image.layer.v1.tar+gzip")
                    : blob(members, layer, "application/vnd.oci.image.layer.v1.tar"));
        }
        return manifest;
    }

    private static ObjectNode blob(Map<String, byte[]> members, byte[] data, String mediaType) throws Exception {
        String hex = sha256(data);
        members.put("blobs/sha256/" + hex, data);
        ObjectNode descriptor = JSON.createObjectNode();
        descriptor.put("mediaType", mediaType);
        descriptor.put("digest", "sha256:" + hex);
        descriptor.put("size", data.length);
        return descriptor;
    }

    static byte[] tar(Map<String, ?> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Map.Entry<String, ?> file : new TreeMap<>(files).entrySet()) {
                byte[] content = file.getValue() instanceof byte[] b ? b
                        : ((String) file.getValue()).getBytes(StandardCharsets.UTF_8);
                TarArchiveEntry entry = new TarArchiveEntry(file.getKey(), true);
                entry.setSize(content.length);
                entry.setMode(0100644);
                tar.putArchiveEntry(entry);
                tar.write(content);
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    static Map<String, byte[]> untar(byte[] archive) throws IOException {
        Map<String, byte[]> members = new TreeMap<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new ByteArrayInputStream(archive))) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                if (entry.isFile()) {
                    members.put(entry.getName(), tar.readAllBytes());
                }
            }
        }
        return members;
    }

    /** An OCI index with one manifest named {@code name} (containerd's annotation). */
    private static ObjectNode ociIndex(ObjectNode manifestDescriptor, String name) {
        manifestDescriptor.putObject("annotations").put("io.containerd.image.name", name);
        ObjectNode index = JSON.createObjectNode();
        index.put("schemaVersion", 2);
        index.put("mediaType", Manifests.OCI_INDEX);
        index.putArray("manifests").add(manifestDescriptor);
        return index;
    }

    /** The data compressed by the zstd tool, so the layers are what real writers produce. */
    static byte[] zstd(byte[] data) throws IOException, InterruptedException {
        Path in = Files.createTempFile("layer-", ".tar");
        try {
            Files.write(in, data);
            Process zstd = new ProcessBuilder("zstd", "-q", "-c", in.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            byte[] out = zstd.getInputStream().readAllBytes();
            assertEquals(0, zstd.waitFor(), "zstd failed");
            return out;
        } finally {
            Files.delete(in);
        }
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(bytes)) {
            gzip.write(data);
        }
        return bytes.toByteArray();
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
