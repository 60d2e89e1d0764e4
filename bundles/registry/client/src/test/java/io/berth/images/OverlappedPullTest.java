package io.berth.images;

import static io.berth.images.TestImages.JSON;
import static io.berth.images.TestImages.randomLayer;
import static io.berth.images.TestImages.snapshot;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.berth.images.TestImages.Snapshot;
import io.berth.images.TestImages.Stores;
import io.berth.registry.client.DockerRegistry;
import io.berth.spi.images.Image;
import io.berth.spi.images.RegistryClient.Credentials;
import io.berth.spi.images.RegistryClient.Progress;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pull unpacks each layer as soon as it and the ones below it are downloaded, while later layers still download.
 * Proven without a clock: Debian's docker-registry sits behind a {@link HoldingProxy} that holds the top layer's
 * blob back until the pull reports the bottom layer unpacked ("Pull complete"). A pull that unpacked only after
 * every download would never get there, and the proxy would let the blob go at its hold limit instead.
 */
class OverlappedPullTest {

    private static final String NAME = "test/app";

    @TempDir
    Path temp;

    private final Random random = new Random(4);
    private DockerRegistry registry;
    private String id;
    /** The layer blobs (gzip) of the pushed image, bottom first. */
    private final List<String> blobs = new ArrayList<>();

    @BeforeEach
    void pushAThreeLayerImage() throws Exception {
        registry = DockerRegistry.start(temp.resolve("registry"));
        Stores a = TestImages.stores(temp.resolve("a"));
        id = TestImages.load(a, "app:v1", List.of(randomLayer(random, "bin/one", 300_000),
                randomLayer(random, "lib/two", 200_000), randomLayer(random, "etc/three", 100_000)));
        String remote = registry.address() + "/" + NAME + ":v1";
        a.images().tag("app:v1", remote);
        a.images().push(remote, Credentials.NONE, null);
        a.client().close();
        HttpResponse<byte[]> manifest = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://" + registry.address() + "/v2/" + NAME + "/manifests/v1"))
                .header("Accept", "application/vnd.oci.image.manifest.v1+json").build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, manifest.statusCode());
        for (JsonNode layer : JSON.readTree(manifest.body()).path("layers")) {
            blobs.add(layer.path("digest").asText());
        }
        assertEquals(3, blobs.size());
    }

    @AfterEach
    void stopRegistry() throws Exception {
        registry.close();
    }

    @Test
    void theBottomLayerIsUnpackedWhileTheTopOneIsStillDownloading() throws Exception {
        String top = blobs.get(2);
        try (HoldingProxy proxy = new HoldingProxy(registry.address(), "/v2/" + NAME + "/blobs/" + top, false)) {
            Stores b = TestImages.stores(temp.resolve("b"));
            List<Progress> events = Collections.synchronizedList(new ArrayList<>());
            Image image = b.images().pull(proxy.address() + "/" + NAME + ":v1", null, Credentials.NONE,
                    releaseWhenUnpacked(proxy, blobs.get(0), events));
            b.client().close();

            assertEquals(id, image.id());
            assertTrue(proxy.releasedInTime(), "the top layer's blob waited for the bottom layer to be unpacked,"
                    + " which never happened while it downloaded: " + events);
            List<String> order = events.stream().map(e -> e.id() + " " + e.status()).toList();
            String bottom = shortId(blobs.get(0));
            assertTrue(order.indexOf(bottom + " Pull complete") < order.indexOf(shortId(top) + " Download complete"),
                    order.toString());
            // Docker's order: every layer's steps in turn, then the digest, once every layer is unpacked.
            int digest = order.size() - 1;
            while (digest >= 0 && !order.get(digest).startsWith("v1 Digest: ")) {
                digest--;
            }
            assertTrue(digest > order.lastIndexOf(shortId(top) + " Pull complete"), order.toString());
            for (String blob : blobs) {
                String layer = shortId(blob);
                List<Integer> steps = Stream.of("Pulling fs layer", "Download complete", "Extracting", "Pull complete")
                        .map(status -> order.indexOf(layer + " " + status)).toList();
                assertTrue(steps.stream().allMatch(i -> i >= 0) && steps.equals(steps.stream().sorted().toList()),
                        layer + ": " + steps + " in " + order);
            }
        }
    }

    @Test
    void aTopLayerThatDoesNotMatchItsDigestAfterLowerOnesWereUnpackedLeavesNothing() throws Exception {
        String top = blobs.get(2);
        try (HoldingProxy proxy = new HoldingProxy(registry.address(), "/v2/" + NAME + "/blobs/" + top, true)) {
            Path dir = temp.resolve("b");
            Stores b = TestImages.stores(dir);
            List<Progress> events = Collections.synchronizedList(new ArrayList<>());
            IOException refused = assertThrows(IOException.class, () -> b.images().pull(
                    proxy.address() + "/" + NAME + ":v1", null, Credentials.NONE,
                    releaseWhenUnpacked(proxy, blobs.get(0), events)));
            b.client().close();

            assertTrue(refused.getMessage().contains("digest mismatch") && refused.getMessage().contains(top),
                    refused.getMessage());
            assertTrue(proxy.releasedInTime(), events.toString());
            assertTrue(events.contains(new Progress(shortId(blobs.get(0)), "Pull complete", -1, -1)),
                    "the bottom layer was unpacked before the top one failed: " + events);
            assertEquals(Snapshot.EMPTY, snapshot(b), "no image, no layer, no blob");
            Stores fresh = TestImages.stores(temp.resolve("fresh"));
            fresh.client().close();
            assertEquals(tree(temp.resolve("fresh")), tree(dir),
                    "nothing half-written: the same files as a store that never pulled");
        }
    }

    @Test
    void onOverlayTheTopLayerIsUnpackedWhileTheBottomOneIsStillDownloading() throws Exception {
        String bottom = blobs.get(0);
        Path dir = temp.resolve("b");
        try (HoldingProxy proxy = new HoldingProxy(registry.address(), "/v2/" + NAME + "/blobs/" + bottom, false)) {
            Stores b = TestImages.overlayStores(dir);
            // The bottom blob goes once the top layer's file is in overlay's upper directory of some layer:
            // a pull that unpacked layers only in chain order would wait for the bottom one first.
            Thread watcher = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    if (upperFile(dir.resolve("overlay2"), "etc/three") != null) {
                        proxy.release();
                        return;
                    }
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            watcher.start();
            Image image;
            try {
                image = b.images().pull(proxy.address() + "/" + NAME + ":v1", null, Credentials.NONE, e -> { });
            } finally {
                watcher.interrupt();
                watcher.join();
                b.client().close();
            }
            assertEquals(id, image.id());
            assertTrue(proxy.releasedInTime(), "the bottom layer's blob waited for the top layer to be unpacked,"
                    + " which never happened while it downloaded");
            assertEquals(3, b.layers().layers().size());
            try (Stream<Path> layers = Files.list(dir.resolve("overlay2"))) {
                assertEquals(3, layers.filter(p -> p.getFileName().toString().matches("[0-9a-f]{64}")).count(),
                        "one copy of each layer in the driver");
            }
            try (Stream<Path> notes = Files.list(dir.resolve("layers"))) {
                assertEquals(List.of(), notes.filter(p -> p.getFileName().toString().startsWith(".")).toList());
            }
        }
    }

    /** The path of {@code file} in some layer's upper directory of the overlay driver at {@code root}, or null. */
    private static Path upperFile(Path root, String file) {
        try (Stream<Path> layers = Files.list(root)) {
            return layers.map(layer -> layer.resolve("diff").resolve(file)).filter(Files::exists).findFirst().orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    /** Records the events, and lets the proxy's held blob go once {@code bottom}'s layer is unpacked. */
    private static Consumer<Progress> releaseWhenUnpacked(HoldingProxy proxy, String bottom, List<Progress> events) {
        return event -> {
            events.add(event);
            if (event.status().equals("Pull complete") && shortId(bottom).equals(event.id())) {
                proxy.release();
            }
        };
    }

    /** Every path below dir, relative to it. */
    private static List<String> tree(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            return all.map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }

    private static String shortId(String digest) {
        return digest.substring("sha256:".length(), "sha256:".length() + 12);
    }
}
