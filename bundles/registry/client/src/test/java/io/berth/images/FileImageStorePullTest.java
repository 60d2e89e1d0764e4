package io.berth.images;

import static io.berth.images.TestImages.JSON;
import static io.berth.images.TestImages.config;
import static io.berth.images.TestImages.dockerArchive;
import static io.berth.images.TestImages.gzip;
import static io.berth.images.TestImages.sha256;
import static io.berth.images.TestImages.snapshot;
import static io.berth.images.TestImages.tar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.images.TestImages.Snapshot;
import io.berth.images.TestImages.Stores;
import io.berth.registry.client.HttpRegistryClient;
import io.berth.registry.server.RegistryServer;
import io.berth.spi.images.Image;
import io.berth.spi.images.Layer;
import io.berth.spi.images.Reference;
import io.berth.spi.images.RegistryClient.Credentials;
import io.berth.spi.images.RegistryClient.Progress;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FileImageStore#push} and {@link FileImageStore#pull} against the real registry server and the real
 * registry client. It lives here, not in bundles/images, because images cannot depend on registry-client
 * (which depends on images for its tests) without a Maven reactor cycle.
 */
class FileImageStorePullTest {

    @TempDir
    Path temp;

    private RegistryServer server;
    private String registry;
    private final List<HttpRegistryClient> clients = new ArrayList<>();

    private Stores stores(String name) throws IOException {
        Stores stores = TestImages.stores(temp.resolve(name));
        clients.add(stores.client());
        return stores;
    }

    @BeforeEach
    void start() throws Exception {
        server = new RegistryServer(temp.resolve("registry"), "127.0.0.1", 0);
        server.start();
        registry = "127.0.0.1:" + server.port();
    }

    @AfterEach
    void stop() throws Exception {
        clients.forEach(HttpRegistryClient::close);
        server.stop();
    }

    @Test
    void anImagePushedFromOneStorePullsIntoAnother() throws Exception {
        byte[] base = tar(Map.of("bin/busybox", "busybox"));
        byte[] top = tar(Map.of("etc/passwd", "root"));
        byte[] config = config(base, top);
        String id = "sha256:" + sha256(config);
        Stores a = stores("a");
        a.images().load(new ByteArrayInputStream(dockerArchive(config, List.of(base, top), "app:v1")));
        a.images().tag("app:v1", registry + "/test/app:v1");

        List<Progress> pushed = new ArrayList<>();
        String digest = a.images().push(registry + "/test/app:v1", Credentials.NONE, pushed::add);
        assertTrue(digest.startsWith("sha256:"), digest);
        assertEquals(List.of(registry + "/test/app@" + digest), a.images().find(id).repoDigests());
        // Pushing again compresses nothing anew: same manifest, same digest.
        assertEquals(digest, a.images().push(registry + "/test/app:v1", Credentials.NONE, null));

        Stores b = stores("b");
        List<Progress> events = new ArrayList<>();
        Image pulled = b.images().pull(registry + "/test/app:v1", null, Credentials.NONE, events::add);
        assertEquals(id, pulled.id());
        assertEquals(List.of(registry + "/test/app:v1"), pulled.repoTags());
        assertEquals(List.of(registry + "/test/app@" + digest), pulled.repoDigests());
        assertEquals("2024-05-01T10:00:00Z", pulled.created());
        List<Layer> layers = b.layers().layers();
        assertEquals(2, layers.size());
        assertEquals(List.of("sha256:" + sha256(base), "sha256:" + sha256(top)),
                layers.stream().map(Layer::diffId).toList());
        assertEquals(pulled.layers(), layers.stream().map(Layer::chainId).toList());
        assertEquals(1, b.layers().get(pulled.layers().get(1)).references(), "the image holds its top layer once");
        assertEquals(2, events.stream().filter(e -> e.status().equals("Extracting")).count(), events.toString());
        assertTrue(events.stream().anyMatch(e -> e.status().equals("Digest: " + digest)), events.toString());
        assertTrue(events.contains(new Progress(null, "Status: Downloaded newer image for " + registry + "/test/app:v1",
                -1, -1)), events.toString());
        // A pulled layer is kept once, as its gzip blob: no uncompressed copy besides it ...
        for (Layer layer : layers) {
            assertFalse(b.content().exists(layer.diffId()), "uncompressed copy of " + layer.diffId());
        }
        // ... and still saves exactly (the archive loads elsewhere as the same image), and pushes back unchanged.
        ByteArrayOutputStream saved = new ByteArrayOutputStream();
        b.images().save(List.of(registry + "/test/app:v1"), saved);
        Stores c = stores("c");
        assertEquals(id, c.images().load(new ByteArrayInputStream(saved.toByteArray())).get(0).id());
        assertEquals(digest, b.images().push(registry + "/test/app:v1", Credentials.NONE, null));

        // A second image on the pulled base: the base is not unpacked again, but its blob is still checked.
        byte[] other = tar(Map.of("etc/hostname", "other"));
        byte[] otherConfig = config(base, other);
        a.images().load(new ByteArrayInputStream(dockerArchive(otherConfig, List.of(base, other), "other:v1")));
        a.images().tag("other:v1", registry + "/test/other:v1");
        a.images().push(registry + "/test/other:v1", Credentials.NONE, null);
        List<Progress> second = new ArrayList<>();
        assertEquals("sha256:" + sha256(otherConfig),
                b.images().pull(registry + "/test/other:v1", null, Credentials.NONE, second::add).id());
        assertEquals(1, second.stream().filter(e -> e.status().equals("Extracting")).count(), second.toString());
        assertEquals(3, b.layers().layers().size());
        b.images().remove(registry + "/test/other:v1", false);

        List<Progress> again = new ArrayList<>();
        Snapshot before = snapshot(b);
        Image same = b.images().pull(registry + "/test/app:v1", null, Credentials.NONE, again::add);
        assertEquals(id, same.id());
        assertEquals(0, again.stream().filter(e -> e.status().equals("Extracting")).count(), again.toString());
        assertTrue(again.contains(new Progress(null, "Status: Image is up to date for " + registry + "/test/app:v1",
                -1, -1)), again.toString());
        assertEquals(before, snapshot(b));

        // rmi releases everything the pull kept.
        b.images().remove(id, true);
        assertEquals(List.of(), b.layers().layers());
        assertEquals(List.of(), b.content().list());
    }

    /** skopeo pushes an image berth saved with zstd layers ({@code --dest-compress-format zstd}); berth pulls it. */
    @Test
    void zstdLayersPushedBySkopeoArePulledAndUnpacked() throws Exception {
        Stores a = stores("a");
        Image imported = a.images().importImage(new ByteArrayInputStream(tar(Map.of("etc/motd",
                "zstd all the way\n".repeat(100)))), "zstd-test:1", null, List.of());
        Path archive = temp.resolve("saved.tar");
        try (java.io.OutputStream out = java.nio.file.Files.newOutputStream(archive)) {
            a.images().save(List.of("zstd-test:1"), out);
        }
        String remote = registry + "/test/zstd:1";
        Process skopeo = new ProcessBuilder("skopeo", "copy", "-q", "--dest-tls-verify=false",
                "--dest-compress-format", "zstd", "docker-archive:" + archive, "docker://" + remote)
                .redirectErrorStream(true).start();
        String output = new String(skopeo.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, skopeo.waitFor(), output);
        Process inspect = new ProcessBuilder("skopeo", "inspect", "--raw", "--tls-verify=false", "docker://" + remote)
                .start();
        com.fasterxml.jackson.databind.JsonNode manifest = JSON.readTree(inspect.getInputStream().readAllBytes());
        assertEquals(0, inspect.waitFor());
        assertEquals("application/vnd.oci.image.layer.v1.tar+zstd",
                manifest.get("layers").get(0).get("mediaType").asText(), manifest::toString);

        Stores b = stores("b");
        List<Progress> events = new ArrayList<>();
        Image pulled = b.images().pull(remote, null, Credentials.NONE, events::add);
        assertEquals(imported.layers(), pulled.layers(), "the same uncompressed layer, so the same chain id");
        assertEquals(JSON.readTree(a.images().config(imported.id())).get("rootfs"),
                JSON.readTree(b.images().config(pulled.id())).get("rootfs"));
        assertTrue(events.stream().anyMatch(event -> event.status().equals("Pull complete")), events::toString);
        assertEquals(List.of(remote), pulled.repoTags());
    }

    @Test
    void aLayerThatIsNotItsDiffIdIsRefusedAndLeavesTheStoreAsItWas() throws Exception {
        byte[] base = tar(Map.of("bin/busybox", "busybox"));
        byte[] other = tar(Map.of("bin/sh", "evil"));
        Stores a = stores("a");
        a.images().load(new ByteArrayInputStream(dockerArchive(config(base), List.of(base), "good:1")));
        a.images().tag("good:1", registry + "/test/good:1");
        a.images().push(registry + "/test/good:1", Credentials.NONE, null);

        // A manifest whose layer does not decompress to the diff id its config names.
        FileContentStore scratch = new FileContentStore(temp.resolve("scratch"));
        byte[] config = JSON.writeValueAsBytes(((ObjectNode) JSON.readTree(config(base))).put("comment", "bad"));
        String configDigest = scratch.write(new ByteArrayInputStream(config), null, -1);
        byte[] layer = gzip(other);
        String layerDigest = scratch.write(new ByteArrayInputStream(layer), null, -1);
        ObjectNode manifest = JSON.createObjectNode().put("schemaVersion", 2).put("mediaType", Manifests.OCI_MANIFEST);
        manifest.putObject("config").put("mediaType", Manifests.OCI_CONFIG).put("digest", configDigest)
                .put("size", config.length);
        manifest.putArray("layers").addObject().put("mediaType", "application/vnd.oci.image.layer.v1.tar+gzip")
                .put("digest", layerDigest).put("size", layer.length);
        byte[] bytes = JSON.writeValueAsBytes(manifest);
        scratch.write(new ByteArrayInputStream(bytes), null, -1);
        HttpRegistryClient crafting = new HttpRegistryClient(scratch, HttpRegistryClient.Settings.defaults());
        clients.add(crafting);
        crafting.push(Reference.parse(registry + "/test/bad:1"), bytes, Manifests.OCI_MANIFEST, Credentials.NONE, null);

        Stores b = stores("b");
        b.images().pull(registry + "/test/good:1", null, Credentials.NONE, null);
        Snapshot before = snapshot(b);
        IOException e = assertThrows(IOException.class,
                () -> b.images().pull(registry + "/test/bad:1", null, Credentials.NONE, null));
        assertTrue(e.getMessage().contains("diff id"), e.getMessage());
        assertEquals(before, snapshot(b));
        assertEquals(null, b.images().find(registry + "/test/bad:1"));

        // Into a fresh store too (the layer is unpacked, not already kept).
        Stores c = stores("c");
        IOException fresh = assertThrows(IOException.class,
                () -> c.images().pull(registry + "/test/bad:1", null, Credentials.NONE, null));
        assertTrue(fresh.getMessage().contains("diff id"), fresh.getMessage());
        assertEquals(Snapshot.EMPTY, snapshot(c));

        // And on overlay, which unpacks the layer as soon as it is downloaded, before the chain's turn.
        Path overlay = temp.resolve("d");
        Stores d = TestImages.overlayStores(overlay);
        clients.add(d.client());
        IOException ahead = assertThrows(IOException.class,
                () -> d.images().pull(registry + "/test/bad:1", null, Credentials.NONE, null));
        assertTrue(ahead.getMessage().contains("diff id"), ahead.getMessage());
        assertEquals(Snapshot.EMPTY, snapshot(d));
        try (var left = Files.list(overlay.resolve("overlay2"))) {
            assertEquals(List.of(), left.filter(p -> p.getFileName().toString().matches("[0-9a-f]{64}")).toList());
        }
    }

    @Test
    void withoutARegistryClientPullAndPushSaySo() throws Exception {
        Path dir = temp.resolve("none");
        FileContentStore content = new FileContentStore(dir.resolve("content"));
        FileImageStore images = new FileImageStore(dir.resolve("store"), content, null);
        IOException pull = assertThrows(IOException.class, () -> images.pull("busybox", null, null, null));
        assertEquals("no registry client is running", pull.getMessage());
        IOException push = assertThrows(IOException.class, () -> images.push("busybox", null, null));
        assertEquals("no registry client is running", push.getMessage());
    }

    @Test
    void aLayerThatIsNotZstdAsItsMediaTypeSaysIsRefusedClearly() throws Exception {
        byte[] base = tar(Map.of("a", "a"));
        FileContentStore scratch = new FileContentStore(temp.resolve("scratch"));
        byte[] config = config(base);
        String configDigest = scratch.write(new ByteArrayInputStream(config), null, -1);
        byte[] layer = "not really zstd".getBytes(StandardCharsets.UTF_8);
        String layerDigest = scratch.write(new ByteArrayInputStream(layer), null, -1);
        ObjectNode manifest = JSON.createObjectNode().put("schemaVersion", 2).put("mediaType", Manifests.OCI_MANIFEST);
        manifest.putObject("config").put("mediaType", Manifests.OCI_CONFIG).put("digest", configDigest)
                .put("size", config.length);
        manifest.putArray("layers").addObject().put("mediaType", "application/vnd.oci.image.layer.v1.tar+zstd")
                .put("digest", layerDigest).put("size", layer.length);
        byte[] bytes = JSON.writeValueAsBytes(manifest);
        HttpRegistryClient crafting = new HttpRegistryClient(scratch, HttpRegistryClient.Settings.defaults());
        clients.add(crafting);
        crafting.push(Reference.parse(registry + "/test/zstd:1"), bytes, Manifests.OCI_MANIFEST, Credentials.NONE, null);

        Stores b = stores("b");
        IOException e = assertThrows(IOException.class,
                () -> b.images().pull(registry + "/test/zstd:1", null, Credentials.NONE, null));
        assertTrue(e.getMessage().startsWith("layer 1 of image " + configDigest + " does not decompress to diff id"),
                e.getMessage());
        assertEquals(Snapshot.EMPTY, snapshot(b));
    }
}
