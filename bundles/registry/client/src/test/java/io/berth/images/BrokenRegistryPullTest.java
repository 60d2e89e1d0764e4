package io.berth.images;

import static io.berth.images.TestImages.JSON;
import static io.berth.images.TestImages.gzip;
import static io.berth.images.TestImages.randomLayer;
import static io.berth.images.TestImages.sha256;
import static io.berth.images.TestImages.snapshot;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.berth.images.TestImages.Snapshot;
import io.berth.images.TestImages.Stores;
import io.berth.registry.client.HttpRegistryClient;
import io.berth.spi.images.RegistryClient.Credentials;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad answers from a registry, served by a tiny loopback server where docker-registry cannot be made to
 * misbehave: each pull fails with a message naming what is wrong, and the engine that pulled holds exactly
 * what it held before (content store, layer store and image list), including an image it already had.
 */
class BrokenRegistryPullTest {

    private static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    private static final String GZIP_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";

    @TempDir
    Path temp;

    private final Random random = new Random(11);
    private final ExecutorService handlers = Executors.newCachedThreadPool();
    /** Released when the test ends: what a stalling answer waits for. */
    private final CountDownLatch hangUp = new CountDownLatch(1);
    private HttpServer server;
    private String registry;
    /** Path below /v2/broken/ -> what is served there. */
    private final Map<String, Answer> answers = new LinkedHashMap<>();
    private Stores stores;
    private Snapshot before;

    /** How one path is answered. */
    @FunctionalInterface
    interface Answer {
        void serve(HttpExchange exchange) throws IOException;
    }

    /** A good two-layer image the tests then break one piece of. */
    private byte[] config;
    private byte[] layer1;
    private byte[] layer2;

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(handlers); // one answer may hang without holding up the others
        server.createContext("/v2/", x -> {
            Answer answer = answers.get(x.getRequestURI().getPath().replaceFirst("^/v2/broken/", ""));
            if (answer == null) {
                x.sendResponseHeaders(404, -1);
                x.close();
            } else {
                answer.serve(x);
            }
        });
        server.start();
        registry = "127.0.0.1:" + server.getAddress().getPort();
        answers.put("/v2/", x -> send(x, 200, "{}".getBytes(StandardCharsets.UTF_8))); // "a registry speaks http here"

        byte[] tar1 = randomLayer(random, "one", 200_000);
        byte[] tar2 = randomLayer(random, "two", 300_000);
        layer1 = gzip(tar1);
        layer2 = gzip(tar2);
        config = TestImages.config(tar1, tar2);
        serveBlob(config);
        serveBlob(layer1);
        serveBlob(layer2);

        // The engine already has one image: a refused pull must leave it (and nothing else) behind.
        stores = TestImages.stores(temp.resolve("engine"));
        TestImages.load(stores, "kept:1", List.of(randomLayer(random, "kept", 1000)));
        before = snapshot(stores);
    }

    @AfterEach
    void stop() {
        hangUp.countDown();
        server.stop(0);
        handlers.shutdownNow();
    }

    private static void send(HttpExchange x, int status, byte[] body, String... headers) throws IOException {
        for (int i = 0; i < headers.length; i += 2) {
            x.getResponseHeaders().add(headers[i], headers[i + 1]);
        }
        x.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(body);
        }
    }

    private static String digest(byte[] bytes) {
        return "sha256:" + sha256(bytes);
    }

    private void serveBlob(byte[] blob) {
        answers.put("blobs/" + digest(blob), x -> send(x, 200, blob));
    }

    private ObjectNode manifest(String layerMediaType) {
        ObjectNode manifest = JSON.createObjectNode().put("schemaVersion", 2).put("mediaType", OCI_MANIFEST);
        manifest.putObject("config").put("mediaType", "application/vnd.oci.image.config.v1+json")
                .put("digest", digest(config)).put("size", config.length);
        manifest.putArray("layers")
                .add(JSON.createObjectNode().put("mediaType", GZIP_LAYER).put("digest", digest(layer1))
                        .put("size", layer1.length))
                .add(JSON.createObjectNode().put("mediaType", layerMediaType).put("digest", digest(layer2))
                        .put("size", layer2.length));
        return manifest;
    }

    private void serveManifest(byte[] manifest) {
        answers.put("manifests/v1", x -> send(x, 200, manifest, "Content-Type", OCI_MANIFEST));
    }

    private void serveManifest(ObjectNode manifest) throws IOException {
        serveManifest(JSON.writeValueAsBytes(manifest));
    }

    /** Pulls broken:v1, expects it to fail with {@code expected} in the message, and nothing to have changed. */
    private IOException refused(String expected) throws IOException {
        IOException e = assertThrows(IOException.class,
                () -> stores.images().pull(registry + "/broken:v1", null, Credentials.NONE, null));
        assertTrue(e.getMessage().contains(expected), "\"" + expected + "\" in: " + e.getMessage());
        assertEquals(before, snapshot(stores), "nothing stored after: " + e.getMessage());
        return e;
    }

    @Test
    void theGoodImagePulls() throws Exception {
        serveManifest(manifest(GZIP_LAYER));
        assertEquals(digest(config), stores.images().pull(registry + "/broken:v1", null, Credentials.NONE, null).id());
    }

    @Test
    void aBlobWhoseContentIsNotItsDigestIsRefused() throws Exception {
        serveManifest(manifest(GZIP_LAYER));
        byte[] forged = layer2.clone();
        forged[forged.length / 2] ^= 1;
        answers.put("blobs/" + digest(layer2), x -> send(x, 200, forged));
        refused("digest mismatch: expected " + digest(layer2) + ", got " + digest(forged));
    }

    @Test
    void aManifestWhoseContentIsNotTheRequestedDigestIsRefused() throws Exception {
        byte[] manifest = JSON.writeValueAsBytes(manifest(GZIP_LAYER));
        String other = digest("something else".getBytes(StandardCharsets.UTF_8));
        answers.put("manifests/" + other, x -> send(x, 200, manifest, "Content-Type", OCI_MANIFEST));
        IOException e = assertThrows(IOException.class,
                () -> stores.images().pull(registry + "/broken@" + other, null, Credentials.NONE, null));
        assertTrue(e.getMessage().contains("manifest digest mismatch"), e.getMessage());
        assertTrue(e.getMessage().contains("expected " + other + ", got " + digest(manifest)), e.getMessage());
        assertEquals(before, snapshot(stores));
    }

    @Test
    void aBlobCutShortByTheConnectionIsRefused() throws Exception {
        serveManifest(manifest(GZIP_LAYER));
        // The blob redirects (as to a CDN) to a bare socket that promises all of it, sends half and hangs up.
        try (ServerSocket cdn = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread hangUp = new Thread(() -> {
                try (Socket socket = cdn.accept()) {
                    socket.getInputStream().read(new byte[8192]);
                    OutputStream out = socket.getOutputStream();
                    out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + layer2.length + "\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.write(layer2, 0, layer2.length / 2);
                    out.flush();
                } catch (IOException e) {
                    // the test fails on what the client saw
                }
            });
            hangUp.start();
            answers.put("blobs/" + digest(layer2), x -> send(x, 307, new byte[0],
                    "Location", "http://127.0.0.1:" + cdn.getLocalPort() + "/cut"));
            // How much of the half that was sent arrives before the hang-up is seen varies (a close with
            // unread input resets the connection), so only the total is exact.
            IOException e = refused("fetching blob " + digest(layer2) + " failed after ");
            assertTrue(e.getMessage().contains(" of " + layer2.length + " bytes"), e.getMessage());
            hangUp.join();
        }
    }

    @Test
    void aBlobThatStopsArrivingIsRefusedOnceNothingCameForTheTimeout() throws Exception {
        serveManifest(manifest(GZIP_LAYER));
        answers.put("blobs/" + digest(layer2), x -> {
            x.sendResponseHeaders(200, layer2.length);
            OutputStream out = x.getResponseBody();
            out.write(layer2, 0, layer2.length / 2);
            out.flush();
            try {
                hangUp.await(); // and sends nothing more, keeping the connection open
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Stores impatient = TestImages.stores(temp.resolve("impatient"), new HttpRegistryClient.Settings(List.of(),
                List.of(), null, Duration.ofSeconds(1), 0, null));
        IOException e = assertThrows(IOException.class,
                () -> impatient.images().pull(registry + "/broken:v1", null, Credentials.NONE, null));
        assertEquals("fetching blob " + digest(layer2) + " failed after " + layer2.length / 2 + " of "
                + layer2.length + " bytes: no data for 1 s", e.getMessage());
        assertEquals(Snapshot.EMPTY, snapshot(impatient));
        // The pool thread that was interrupted is fit for the next pull.
        answers.put("blobs/" + digest(layer2), x -> send(x, 200, layer2));
        assertEquals(digest(config), impatient.images().pull(registry + "/broken:v1", null, Credentials.NONE, null)
                .id());
    }

    @Test
    void aBlobThatEndsEarlyIsRefused() throws Exception {
        serveManifest(manifest(GZIP_LAYER));
        byte[] half = Arrays.copyOf(layer2, layer2.length / 2);
        answers.put("blobs/" + digest(layer2), x -> send(x, 200, half)); // a whole answer, but too short
        refused("size mismatch for " + digest(layer2) + ": expected " + layer2.length + " bytes, got " + half.length);
    }

    @Test
    void aMalformedManifestIsRefused() throws Exception {
        serveManifest("{\"schemaVersion\": 2, \"layers\": [".getBytes(StandardCharsets.UTF_8));
        refused("malformed manifest v1 of " + registry + "/broken:v1");
    }

    @Test
    void aManifestWithoutLayersIsRefused() throws Exception {
        ObjectNode manifest = manifest(GZIP_LAYER);
        manifest.remove("layers");
        serveManifest(manifest);
        refused("malformed manifest v1 of " + registry + "/broken:v1: it has no layers");
    }

    @Test
    void anOversizedManifestIsRefused() throws Exception {
        byte[] huge = new byte[5 * 1024 * 1024];
        Arrays.fill(huge, (byte) ' ');
        byte[] start = JSON.writeValueAsBytes(manifest(GZIP_LAYER));
        System.arraycopy(start, 0, huge, 0, start.length);
        serveManifest(huge);
        refused("manifest v1 of " + registry + "/broken:v1 is larger than 4194304 bytes");
    }

    @Test
    void aLayerOfAnUnknownMediaTypeIsRefused() throws Exception {
        serveManifest(manifest("application/vnd.example.not-a-layer"));
        refused("unsupported media type application/vnd.example.not-a-layer");
    }
}
