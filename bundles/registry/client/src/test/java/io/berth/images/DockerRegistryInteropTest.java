package io.berth.images;

import static io.berth.images.TestImages.randomLayer;
import static io.berth.images.TestImages.snapshot;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.images.TestImages.Snapshot;
import io.berth.images.TestImages.Stores;
import io.berth.registry.client.DockerRegistry;
import io.berth.registry.client.DockerRegistry.Request;
import io.berth.spi.images.Image;
import io.berth.spi.images.Layer;
import io.berth.spi.images.RegistryClient.Credentials;
import io.berth.spi.images.RegistryClient.Progress;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * berth's image store and registry client against Debian's docker-registry (distribution 2.8), the registry most
 * private installations run: push, pull, layer skipping, htpasswd basic auth and cross-repository mounts.
 */
class DockerRegistryInteropTest {

    @TempDir
    Path temp;

    private final Random random = new Random(7);

    /** Three distinct layers: a multi-layer image. */
    private List<byte[]> threeLayers() throws IOException {
        return List.of(randomLayer(random, "bin/one", 300_000), randomLayer(random, "lib/two", 200_000),
                randomLayer(random, "etc/three", 1_000));
    }

    private static long count(List<Request> requests, Predicate<Request> which) {
        return requests.stream().filter(which).count();
    }

    /** Blob uploads the registry saw into {@code repository}: upload starts (POST without mount) and PATCHes. */
    private static Predicate<Request> uploadInto(String repository) {
        String prefix = "/v2/" + repository + "/blobs/uploads/";
        return r -> r.path().startsWith(prefix) && (r.method().equals("PATCH") || r.method().equals("PUT")
                || r.method().equals("POST"));
    }

    private static long statusCount(List<Progress> events, String status) {
        return events.stream().filter(e -> status.equals(e.status())).count();
    }

    @Test
    void aMultiLayerImageIsPushedOncePulledBackAndASecondPushSkipsEveryLayer() throws Exception {
        try (DockerRegistry registry = DockerRegistry.start(temp.resolve("registry"))) {
            String remote = registry.address() + "/test/app:v1";
            Stores a = TestImages.stores(temp.resolve("a"));
            String id = TestImages.load(a, "app:v1", threeLayers());
            a.images().tag("app:v1", remote);

            List<Progress> first = Collections.synchronizedList(new ArrayList<>());
            String digest = a.images().push(remote, Credentials.NONE, first::add);
            assertEquals(4, statusCount(first, "Pushed"), first.toString()); // three layers and the config
            List<Request> afterFirst = registry.requests();
            assertEquals(4, count(afterFirst, r -> r.method().equals("PUT") && r.status() == 201
                    && r.path().startsWith("/v2/test/app/blobs/uploads/")), afterFirst.toString());
            assertEquals(1, count(afterFirst, r -> r.method().equals("PUT") && r.status() == 201
                    && r.path().equals("/v2/test/app/manifests/v1")), afterFirst.toString());

            // The second push of the same image: every blob is there, nothing is uploaded again.
            List<Progress> second = Collections.synchronizedList(new ArrayList<>());
            assertEquals(digest, a.images().push(remote, Credentials.NONE, second::add));
            assertEquals(4, statusCount(second, "Layer already exists"), second.toString());
            assertEquals(0, statusCount(second, "Pushed"), second.toString());
            List<Request> afterSecond = registry.requests();
            List<Request> added = afterSecond.subList(afterFirst.size(), afterSecond.size());
            assertEquals(0, count(added, uploadInto("test/app")), "no blob upload the second time: " + added);
            assertEquals(4, count(added, r -> r.method().equals("HEAD") && r.status() == 200), added.toString());

            // Another engine pulls it: same manifest digest, same layers (diff ids), same image id.
            Stores b = TestImages.stores(temp.resolve("b"));
            List<Progress> pulled = Collections.synchronizedList(new ArrayList<>());
            Image image = b.images().pull(remote, null, Credentials.NONE, pulled::add);
            assertEquals(id, image.id());
            assertEquals(List.of(registry.address() + "/test/app@" + digest), image.repoDigests());
            assertEquals(a.layers().layers().stream().map(Layer::diffId).toList(),
                    b.layers().layers().stream().map(Layer::diffId).toList());
            assertEquals(3, statusCount(pulled, "Extracting"), pulled.toString());
            assertTrue(pulled.contains(new Progress(null, "Status: Downloaded newer image for " + remote, -1, -1)),
                    pulled.toString());
            // And pushes it back unchanged: same digest, nothing uploaded.
            int before = registry.requests().size();
            assertEquals(digest, b.images().push(remote, Credentials.NONE, null));
            List<Request> back = registry.requests();
            assertEquals(0, count(back.subList(before, back.size()), uploadInto("test/app")), back.toString());
        }
    }

    @Test
    void basicAuthAgainstHtpasswdWorksAndAWrongPasswordIsRefusedClearly() throws Exception {
        try (DockerRegistry registry = DockerRegistry.withHtpasswd(temp.resolve("registry"), "alice", "s3cret pw")) {
            String remote = registry.address() + "/private/app:v1";
            Stores a = TestImages.stores(temp.resolve("a"));
            String id = TestImages.load(a, "app:v1", threeLayers());
            a.images().tag("app:v1", remote);

            IOException anonymous = assertThrows(IOException.class,
                    () -> a.images().push(remote, Credentials.NONE, null));
            assertTrue(anonymous.getMessage().startsWith("unauthorized: authentication required"),
                    anonymous.getMessage());
            Credentials alice = new Credentials("alice", "s3cret pw", null);
            String digest = a.images().push(remote, alice, null);

            Stores b = TestImages.stores(temp.resolve("b"));
            IOException wrong = assertThrows(IOException.class,
                    () -> b.images().pull(remote, null, new Credentials("alice", "wrong", null), null));
            assertTrue(wrong.getMessage().startsWith("unauthorized: authentication failed for private/app"),
                    wrong.getMessage());
            assertEquals(Snapshot.EMPTY, snapshot(b), "a refused pull stores nothing");

            Image image = b.images().pull(remote, null, alice, null);
            assertEquals(id, image.id());
            assertEquals(List.of(registry.address() + "/private/app@" + digest), image.repoDigests());
            assertTrue(registry.requests().stream().anyMatch(r -> r.status() == 401), "the registry did challenge");
        }
    }

    @Test
    void aLoopbackRegistryWithASelfSignedCertificateIsSpokenToOverTlsAsDockerDoes() throws Exception {
        // Docker treats 127.0.0.0/8 as insecure: https without verifying the certificate when plain http fails.
        try (DockerRegistry registry = DockerRegistry.withTls(temp.resolve("registry"))) {
            String remote = registry.address() + "/tls/app:v1";
            Stores a = TestImages.stores(temp.resolve("a"));
            String id = TestImages.load(a, "app:v1", threeLayers());
            a.images().tag("app:v1", remote);
            String digest = a.images().push(remote, Credentials.NONE, null);

            Stores b = TestImages.stores(temp.resolve("b"));
            Image image = b.images().pull(remote, null, Credentials.NONE, null);
            assertEquals(id, image.id());
            assertEquals(List.of(registry.address() + "/tls/app@" + digest), image.repoDigests());
            assertTrue(registry.requests().stream().anyMatch(r -> r.method().equals("PUT")
                    && r.path().equals("/v2/tls/app/manifests/v1") && r.status() == 201), registry.logText());
        }
    }

    @Test
    void aSecondRepositoryMountsTheBlobsOfTheFirstInsteadOfUploadingThem() throws Exception {
        try (DockerRegistry registry = DockerRegistry.start(temp.resolve("registry"))) {
            Stores a = TestImages.stores(temp.resolve("a"));
            TestImages.load(a, "app:v1", threeLayers());
            String first = registry.address() + "/team/app:v1";
            String second = registry.address() + "/other/copy:v1";
            a.images().tag("app:v1", first);
            a.images().tag("app:v1", second);
            String digest = a.images().push(first, Credentials.NONE, null);

            List<Progress> events = Collections.synchronizedList(new ArrayList<>());
            assertEquals(digest, a.images().push(second, Credentials.NONE, events::add));
            assertEquals(4, statusCount(events, "Mounted from team/app"), events.toString());
            List<Request> requests = registry.requests();
            assertEquals(4, count(requests, r -> r.method().equals("POST") && r.status() == 201
                    && r.path().equals("/v2/other/copy/blobs/uploads/")), "four mounts: " + requests);
            assertEquals(0, count(requests, r -> r.path().startsWith("/v2/other/copy/blobs/uploads/")
                    && (r.method().equals("PATCH") || r.method().equals("PUT"))), requests.toString());

            Stores b = TestImages.stores(temp.resolve("b"));
            Image pulled = b.images().pull(second, null, Credentials.NONE, null);
            assertEquals(List.of(registry.address() + "/other/copy@" + digest), pulled.repoDigests());
            assertNull(b.images().find(first));
            assertFalse(b.layers().layers().isEmpty());
        }
    }
}
