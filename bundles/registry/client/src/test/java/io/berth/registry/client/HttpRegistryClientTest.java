package io.berth.registry.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.berth.images.FileContentStore;
import io.berth.registry.server.RegistryServer;
import io.berth.spi.images.ContentStore;
import io.berth.spi.images.Reference;
import io.berth.spi.images.RegistryClient.Credentials;
import io.berth.spi.images.RegistryClient.Progress;
import io.berth.spi.images.RegistryClient.Pulled;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HttpRegistryClientTest {

    private static final String OCI_MANIFEST = HttpRegistryClient.OCI_MANIFEST;
    private static final String OCI_INDEX = HttpRegistryClient.OCI_INDEX;
    private static final String LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
    private static final String CONFIG = "application/vnd.oci.image.config.v1+json";

    @TempDir
    Path temp;

    private final ObjectMapper json = new ObjectMapper();
    private final Random random = new Random(42);
    private RegistryServer server;
    private String registry;
    private ContentStore source;
    private ContentStore target;
    private final List<HttpServer> fakes = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = new RegistryServer(temp.resolve("registry"), "127.0.0.1", 0);
        server.start();
        registry = "127.0.0.1:" + server.port();
        source = new FileContentStore(temp.resolve("source"));
        target = new FileContentStore(temp.resolve("target"));
    }

    @AfterEach
    void stop() throws Exception {
        server.stop();
        fakes.forEach(f -> f.stop(0));
    }

    // ---------------------------------------------------------------- image building

    record Image(byte[] manifest, String digest, String config, List<String> layers) {
    }

    private String put(ContentStore store, byte[] bytes) throws IOException {
        return store.write(new ByteArrayInputStream(bytes), null, -1);
    }

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private ObjectNode descriptor(String mediaType, String digest, long size) {
        return json.createObjectNode().put("mediaType", mediaType).put("digest", digest).put("size", size);
    }

    private Image image(ContentStore store, String arch, int... layerSizes) throws IOException {
        byte[] config = json.writeValueAsBytes(json.createObjectNode().put("architecture", arch).put("os", "linux")
                .put("created", "2024-01-01T00:00:00Z").put("salt", random.nextLong()));
        String configDigest = put(store, config);
        ObjectNode manifest = json.createObjectNode().put("schemaVersion", 2).put("mediaType", OCI_MANIFEST);
        manifest.set("config", descriptor(CONFIG, configDigest, config.length));
        ArrayNode layers = manifest.putArray("layers");
        List<String> digests = new ArrayList<>();
        for (int size : layerSizes) {
            byte[] layer = randomBytes(size);
            String d = put(store, layer);
            digests.add(d);
            layers.add(descriptor(LAYER, d, layer.length));
        }
        byte[] bytes = json.writeValueAsBytes(manifest);
        return new Image(bytes, put(store, bytes), configDigest, digests);
    }

    private Image image(ContentStore store) throws IOException {
        return image(store, "amd64", 70_000, 12_345);
    }

    private HttpRegistryClient client(ContentStore store) {
        return new HttpRegistryClient(store, HttpRegistryClient.Settings.defaults());
    }

    private Reference ref(String path) {
        return Reference.parse(registry + "/" + path);
    }

    private static List<String> statuses(List<Progress> events) {
        return events.stream().map(Progress::status).toList();
    }

    private void assertPulled(ContentStore store, Image image) throws IOException {
        for (String d : concat(image)) {
            assertTrue(store.exists(d), d);
            try (InputStream in = store.read(d)) {
                assertEquals(d, HttpRegistryClient.sha256(in.readAllBytes()));
            }
        }
    }

    private static List<String> concat(Image image) {
        List<String> all = new ArrayList<>(image.layers());
        all.add(image.config());
        all.add(image.digest());
        return all;
    }

    // ---------------------------------------------------------------- against the real registry server

    @Test
    void pushThenPullIntoAnEmptyStore() throws Exception {
        Image image = image(source);
        List<Progress> pushEvents = Collections.synchronizedList(new ArrayList<>());
        String pushed = client(source).push(ref("test/app:v1"), image.manifest(), OCI_MANIFEST, Credentials.NONE,
                pushEvents::add);
        assertEquals(image.digest(), pushed);
        assertEquals(3, statuses(pushEvents).stream().filter("Pushed"::equals).count(), pushEvents.toString());

        List<Progress> events = Collections.synchronizedList(new ArrayList<>());
        Pulled pulled = client(target).pull(ref("test/app:v1"), null, Credentials.NONE, events::add);
        assertEquals(image.digest(), pulled.manifestDigest());
        assertNull(pulled.indexDigest());
        assertEquals(image.config(), pulled.configDigest());
        assertEquals(image.layers(), pulled.layers().stream().map(b -> b.digest()).toList());
        assertArrayEquals(image.manifest(), pulled.manifest());
        assertPulled(target, image);
        List<String> s = statuses(events);
        assertEquals(2, s.stream().filter("Pulling fs layer"::equals).count(), s.toString());
        assertEquals(2, s.stream().filter("Download complete"::equals).count(), s.toString());
        // "Pull complete" is the image store's to say, once a layer is unpacked.
        assertEquals(0, s.stream().filter("Pull complete"::equals).count(), s.toString());
        assertTrue(events.stream().anyMatch(e -> e.status().equals("Downloading") && e.current() == 70_000
                && e.total() == 70_000), events.toString());

        // by digest too
        Pulled byDigest = client(target).pull(ref("test/app@" + image.digest()), null, Credentials.NONE, null);
        assertEquals(image.digest(), byDigest.manifestDigest());
    }

    @Test
    void pullingAgainDownloadsNothing() throws Exception {
        Image image = image(source);
        client(source).push(ref("test/app:v1"), image.manifest(), OCI_MANIFEST, Credentials.NONE, null);
        HttpRegistryClient client = client(target);
        client.pull(ref("test/app:v1"), null, Credentials.NONE, null);
        List<Progress> events = new ArrayList<>();
        Pulled again = client.pull(ref("test/app:v1"), null, Credentials.NONE, events::add);
        assertEquals(image.digest(), again.manifestDigest());
        List<String> s = statuses(events);
        assertEquals(2, s.stream().filter("Already exists"::equals).count(), s.toString());
        assertFalse(s.contains("Downloading"), s.toString());
        assertFalse(s.contains("Pulling fs layer"), s.toString());
    }

    @Test
    void pushingToAnotherRepositoryMountsTheBlobs() throws Exception {
        Image image = image(source);
        HttpRegistryClient client = client(source);
        client.push(ref("test/app:v1"), image.manifest(), OCI_MANIFEST, Credentials.NONE, null);
        List<Progress> events = Collections.synchronizedList(new ArrayList<>());
        client.push(ref("test/other:v2"), image.manifest(), OCI_MANIFEST, Credentials.NONE, events::add);
        List<String> s = statuses(events);
        assertEquals(3, s.stream().filter("Mounted from test/app"::equals).count(), s.toString());
        assertFalse(s.contains("Pushed"), s.toString());
        // pushing again: the registry has them all
        events.clear();
        client.push(ref("test/other:v3"), image.manifest(), OCI_MANIFEST, Credentials.NONE, events::add);
        assertEquals(3, statuses(events).stream().filter("Layer already exists"::equals).count(), events.toString());

        Pulled pulled = client(target).pull(ref("test/other:v2"), null, Credentials.NONE, null);
        assertEquals(image.digest(), pulled.manifestDigest());
        assertPulled(target, image);
    }

    @Test
    void anIndexIsPushedAndThePlatformChosenOnPull() throws Exception {
        Image amd64 = image(source, "amd64", 1000, 2000);
        Image arm64 = image(source, "arm64", 3000);
        ObjectNode index = json.createObjectNode().put("schemaVersion", 2).put("mediaType", OCI_INDEX);
        ArrayNode manifests = index.putArray("manifests");
        ObjectNode a = descriptor(OCI_MANIFEST, amd64.digest(), amd64.manifest().length);
        a.putObject("platform").put("os", "linux").put("architecture", "amd64");
        ObjectNode b = descriptor(OCI_MANIFEST, arm64.digest(), arm64.manifest().length);
        b.putObject("platform").put("os", "linux").put("architecture", "arm64").put("variant", "v8");
        manifests.add(a).add(b);
        byte[] indexBytes = json.writeValueAsBytes(index);
        String indexDigest = put(source, indexBytes);

        String pushed = client(source).push(ref("test/multi:v1"), indexBytes, OCI_INDEX, Credentials.NONE, null);
        assertEquals(indexDigest, pushed);

        HttpRegistryClient client = client(target);
        Pulled x86 = client.pull(ref("test/multi:v1"), "linux/amd64", Credentials.NONE, null);
        assertEquals(amd64.digest(), x86.manifestDigest());
        assertEquals(indexDigest, x86.indexDigest());
        assertPulled(target, amd64);
        assertTrue(target.exists(indexDigest));
        assertFalse(target.exists(arm64.layers().get(0)));

        Pulled arm = client.pull(ref("test/multi:v1"), "linux/arm64", Credentials.NONE, null);
        assertEquals(arm64.digest(), arm.manifestDigest());
        assertEquals(arm64.config(), arm.configDigest());
        assertPulled(target, arm64);
        assertEquals(arm64.digest(),
                client.pull(ref("test/multi:v1"), "linux/arm64/v8", Credentials.NONE, null).manifestDigest());

        IOException none = assertThrows(IOException.class,
                () -> client.pull(ref("test/multi:v1"), "linux/s390x", Credentials.NONE, null));
        assertTrue(none.getMessage().contains("no matching manifest for linux/s390x"), none.getMessage());
    }

    @Test
    void anUnknownTagIsManifestUnknown() throws Exception {
        IOException e = assertThrows(IOException.class,
                () -> client(target).pull(ref("test/app:nope"), null, Credentials.NONE, null));
        assertTrue(e.getMessage().startsWith("manifest unknown: " + registry + "/test/app:nope"), e.getMessage());
        assertTrue(e.getMessage().contains("MANIFEST_UNKNOWN"), e.getMessage());
    }

    @Test
    void chunkedPushWithSmallChunks() throws Exception {
        Image image = image(source, "amd64", 10_001, 999, 1);
        HttpRegistryClient client = new HttpRegistryClient(source,
                HttpRegistryClient.Settings.defaults().withChunkSize(1000));
        assertEquals(image.digest(), client.push(ref("test/chunked:v1"), image.manifest(), OCI_MANIFEST,
                Credentials.NONE, null));
        Pulled pulled = client(target).pull(ref("test/chunked:v1"), null, Credentials.NONE, null);
        assertEquals(image.digest(), pulled.manifestDigest());
        assertPulled(target, image);
    }

    @Test
    void dockerHubPullsGoThroughTheMirror() throws Exception {
        Image image = image(source);
        client(source).push(ref("library/busybox:latest"), image.manifest(), OCI_MANIFEST, Credentials.NONE, null);
        // docker.io itself is a dead loopback port: nothing may leave this host
        HttpRegistryClient.Settings settings = new HttpRegistryClient.Settings(List.of("http://" + registry + "/"),
                List.of()).withDockerHubUrl("http://127.0.0.1:1");
        HttpRegistryClient client = new HttpRegistryClient(target, settings);
        Pulled pulled = client.pull(Reference.parse("busybox"), null, Credentials.NONE, null);
        assertEquals(image.digest(), pulled.manifestDigest());
        assertPulled(target, image);
        IOException e = assertThrows(IOException.class,
                () -> client.pull(Reference.parse("alpine"), null, Credentials.NONE, null));
        assertTrue(e.getMessage().startsWith("cannot reach http://127.0.0.1:1"), e.getMessage());
        assertTrue(e.getSuppressed()[0].getMessage().startsWith("manifest unknown"), e.getSuppressed()[0].getMessage());
    }

    @Test
    void schemesFollowDockersRules() {
        HttpRegistryClient client = new HttpRegistryClient(target,
                new HttpRegistryClient.Settings(List.of(), List.of("myreg.local:5000", "other.example")));
        assertEquals("http://localhost:5000", client.baseUrl("localhost:5000"));
        assertEquals("http://127.0.0.1:5000", client.baseUrl("127.0.0.1:5000"));
        assertEquals("http://myreg.local:5000", client.baseUrl("myreg.local:5000"));
        assertEquals("http://other.example:443", client.baseUrl("other.example:443"));
        assertEquals("https://quay.io", client.baseUrl("quay.io"));
        assertEquals("https://registry-1.docker.io", client.baseUrl("docker.io"));
    }

    // ---------------------------------------------------------------- auth against fake servers

    private HttpServer fake() throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        fakes.add(s);
        return s;
    }

    private static void respond(HttpExchange x, int status, byte[] body, String... headers) throws IOException {
        for (int i = 0; i < headers.length; i += 2) {
            x.getResponseHeaders().add(headers[i], headers[i + 1]);
        }
        x.sendResponseHeaders(status, body == null || body.length == 0 ? -1 : body.length);
        if (body != null && body.length > 0) {
            x.getResponseBody().write(body);
        }
        x.close();
    }

    /** A registry front serving one image from memory, demanding {@code expectedAuth} or answering {@code challenge}. */
    private HttpServer front(ContentStore store, Image image, String challenge, String expectedAuth,
                             AtomicInteger unauthorized) throws IOException {
        HttpServer front = fake();
        front.createContext("/v2/", x -> {
            String auth = x.getRequestHeaders().getFirst("Authorization");
            if (!expectedAuth.equals(auth)) {
                if (!x.getRequestURI().getPath().equals("/v2/")) { // not the client's "is it http?" probe
                    unauthorized.incrementAndGet();
                }
                respond(x, 401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}"
                        .getBytes(StandardCharsets.UTF_8), "WWW-Authenticate", challenge);
                return;
            }
            String path = x.getRequestURI().getPath();
            if (path.equals("/v2/test/app/manifests/v1")) {
                respond(x, 200, image.manifest(), "Content-Type", OCI_MANIFEST, "Docker-Content-Digest", image.digest());
            } else if (path.startsWith("/v2/test/app/blobs/")) {
                String digest = path.substring("/v2/test/app/blobs/".length());
                try (InputStream in = store.read(digest)) {
                    respond(x, 200, in.readAllBytes());
                } catch (IOException e) {
                    respond(x, 404, null);
                }
            } else {
                respond(x, 404, null);
            }
        });
        front.start();
        return front;
    }

    @Test
    void bearerChallengeGetsATokenWithBasicCredentialsAndRetries() throws Exception {
        Image image = image(source);
        List<String> tokenRequests = Collections.synchronizedList(new ArrayList<>());
        HttpServer tokens = fake();
        String basic = "Basic " + Base64.getEncoder().encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8));
        tokens.createContext("/token", x -> {
            tokenRequests.add(x.getRequestURI().getRawQuery());
            if (!basic.equals(x.getRequestHeaders().getFirst("Authorization"))) {
                respond(x, 401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"bad credentials\"}]}"
                        .getBytes(StandardCharsets.UTF_8));
                return;
            }
            respond(x, 200, "{\"access_token\":\"tok-123\",\"expires_in\":300}".getBytes(StandardCharsets.UTF_8),
                    "Content-Type", "application/json");
        });
        tokens.start();
        String challenge = "Bearer realm=\"http://127.0.0.1:" + tokens.getAddress().getPort()
                + "/token\",service=\"fake.registry\",scope=\"repository:test/app:pull\"";
        AtomicInteger unauthorized = new AtomicInteger();
        HttpServer front = front(source, image, challenge, "Bearer tok-123", unauthorized);
        Reference reference = Reference.parse("127.0.0.1:" + front.getAddress().getPort() + "/test/app:v1");

        HttpRegistryClient client = client(target);
        Pulled pulled = client.pull(reference, null, new Credentials("alice", "s3cret", null), null);
        assertEquals(image.digest(), pulled.manifestDigest());
        assertPulled(target, image);
        assertEquals(1, tokenRequests.size(), "token cached across requests: " + tokenRequests);
        assertEquals("service=fake.registry&scope=repository%3Atest%2Fapp%3Apull", tokenRequests.get(0));
        assertEquals(1, unauthorized.get());

        // wrong password: the token server refuses, the pull says so
        IOException e = assertThrows(IOException.class, () -> new HttpRegistryClient(
                new FileContentStore(temp.resolve("third")), HttpRegistryClient.Settings.defaults())
                .pull(reference, null, new Credentials("alice", "wrong", null), null));
        assertTrue(e.getMessage().startsWith("unauthorized:"), e.getMessage());
        assertTrue(e.getMessage().contains("bad credentials"), e.getMessage());
    }

    @Test
    void basicChallengeIsAnsweredWithTheCredentials() throws Exception {
        Image image = image(source);
        String basic = "Basic " + Base64.getEncoder().encodeToString("bob:pw".getBytes(StandardCharsets.UTF_8));
        AtomicInteger unauthorized = new AtomicInteger();
        HttpServer front = front(source, image, "Basic realm=\"fake\"", basic, unauthorized);
        Reference reference = Reference.parse("127.0.0.1:" + front.getAddress().getPort() + "/test/app:v1");
        assertEquals(image.digest(), client(target).pull(reference, null, new Credentials("bob", "pw", null), null)
                .manifestDigest());
        assertEquals(1, unauthorized.get());

        IOException none = assertThrows(IOException.class, () -> new HttpRegistryClient(
                new FileContentStore(temp.resolve("other")), HttpRegistryClient.Settings.defaults())
                .pull(reference, null, Credentials.NONE, null));
        assertTrue(none.getMessage().startsWith("unauthorized:"), none.getMessage());
        IOException wrong = assertThrows(IOException.class, () -> new HttpRegistryClient(
                new FileContentStore(temp.resolve("third")), HttpRegistryClient.Settings.defaults())
                .pull(reference, null, new Credentials("bob", "nope", null), null));
        assertTrue(wrong.getMessage().startsWith("unauthorized:"), wrong.getMessage());
    }

    @Test
    void aChunkRefusedWith416IsResumedFromTheRegistrysOffset() throws Exception {
        Image image = image(source, "amd64", 3500);
        Map<String, byte[]> blobs = new HashMap<>();
        Map<String, ByteArrayOutputStream> uploads = new HashMap<>();
        Map<String, AtomicInteger> patches = new HashMap<>();
        AtomicInteger refused = new AtomicInteger();
        List<String> manifests = new ArrayList<>();
        HttpServer fake = fake();
        fake.createContext("/v2/", x -> {
            String path = x.getRequestURI().getPath();
            String method = x.getRequestMethod();
            byte[] body = x.getRequestBody().readAllBytes();
            String id = path.startsWith("/v2/test/app/blobs/uploads/") ? path.substring(path.lastIndexOf('/') + 1) : "";
            ByteArrayOutputStream upload = uploads.get(id);
            String location = "/v2/test/app/blobs/uploads/" + id + "?state=abc";
            if (path.equals("/v2/")) {
                respond(x, 200, null);
            } else if (method.equals("HEAD")) {
                String d = path.substring(path.lastIndexOf('/') + 1);
                respond(x, blobs.containsKey(d) ? 200 : 404, null);
            } else if (method.equals("POST")) {
                String fresh = "u" + uploads.size();
                uploads.put(fresh, new ByteArrayOutputStream());
                patches.put(fresh, new AtomicInteger());
                respond(x, 202, null, "Location", "/v2/test/app/blobs/uploads/" + fresh + "?state=abc", "Range", "0-0");
            } else if (method.equals("PATCH") && upload != null) {
                int n = patches.get(id).incrementAndGet();
                long start = Long.parseLong(x.getRequestHeaders().getFirst("Content-Range").split("-")[0]);
                if (n == 2 || start != upload.size()) { // the second chunk is "lost" once
                    refused.incrementAndGet();
                    respond(x, 416, null, "Range", "0-" + Math.max(0, upload.size() - 1));
                    return;
                }
                upload.write(body);
                respond(x, 202, null, "Location", location, "Range", "0-" + (upload.size() - 1));
            } else if (method.equals("GET") && upload != null) {
                respond(x, 204, null, "Range", "0-" + Math.max(0, upload.size() - 1), "Location", location);
            } else if (method.equals("PUT") && upload != null) {
                String query = x.getRequestURI().getQuery();
                String digest = query.replaceAll(".*digest=", "");
                byte[] data = upload.toByteArray();
                if (!query.contains("state=abc") || !HttpRegistryClient.sha256(data).equals(digest)) {
                    respond(x, 400, "{\"errors\":[{\"code\":\"DIGEST_INVALID\",\"message\":\"digest mismatch\"}]}"
                            .getBytes(StandardCharsets.UTF_8));
                    return;
                }
                blobs.put(digest, data);
                respond(x, 201, null, "Docker-Content-Digest", digest);
            } else if (method.equals("PUT") && path.startsWith("/v2/test/app/manifests/")) {
                manifests.add(path);
                respond(x, 201, null, "Docker-Content-Digest", HttpRegistryClient.sha256(body));
            } else {
                respond(x, 404, null);
            }
        });
        fake.start();
        HttpRegistryClient client = new HttpRegistryClient(source,
                HttpRegistryClient.Settings.defaults().withChunkSize(1000));
        Reference reference = Reference.parse("127.0.0.1:" + fake.getAddress().getPort() + "/test/app:v1");
        assertEquals(image.digest(), client.push(reference, image.manifest(), OCI_MANIFEST, Credentials.NONE, null));
        assertTrue(blobs.containsKey(image.layers().get(0)));
        assertTrue(blobs.containsKey(image.config()));
        assertEquals(List.of("/v2/test/app/manifests/v1"), manifests);
        assertEquals(1, refused.get(), "one chunk refused and resumed");
    }

    @Test
    void hostPlatformIsLinux() {
        assertTrue(HttpRegistryClient.hostPlatform().startsWith("linux/"));
    }
}
