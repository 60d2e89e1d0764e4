package io.berth.images;

import static io.berth.images.TestImages.randomLayer;
import static io.berth.images.TestImages.snapshot;
import static io.berth.images.TestImages.tar;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.berth.images.TestImages.Snapshot;
import io.berth.images.TestImages.Stores;
import io.berth.registry.client.DockerRegistry;
import io.berth.registry.client.DockerRegistry.Request;
import io.berth.spi.images.Image;
import io.berth.spi.images.RegistryClient.Credentials;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a push compresses the layers it sends (in parallel, outside the store's lock, straight into the content store),
 * against Debian's docker-registry: the same tar always gives the same blob, a blob is compressed once, and an image
 * removed while it is being pushed leaves nothing behind.
 */
class PushCompressionTest {

    @TempDir
    Path temp;

    private final Random random = new Random(11);

    /** Random (incompressible) layers, a text layer and a tiny one: what compression levels differ on. */
    private List<byte[]> layers() throws IOException {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 20_000; i++) {
            text.append("line ").append(i).append(": export PATH=/usr/local/bin:/usr/bin:/bin\n");
        }
        return List.of(randomLayer(random, "bin/one", 700_000), randomLayer(random, "lib/two", 600_000),
                tar(Map.of("etc/profile", text.toString())), tar(Map.of("etc/hostname", "berth\n")));
    }

    @Test
    void theSameLayersPushedFromTwoStoresGiveTheSameBlobsAndEachIsCompressedOnce() throws Exception {
        List<byte[]> layers = layers();
        try (DockerRegistry registry = DockerRegistry.start(temp.resolve("registry"))) {
            Stores a = TestImages.stores(temp.resolve("a"));
            Stores b = TestImages.stores(temp.resolve("b"));
            String id = TestImages.load(a, "app:v1", layers);
            assertEquals(id, TestImages.load(b, "app:v1", layers));
            a.images().tag("app:v1", registry.address() + "/a/app:v1");
            b.images().tag("app:v1", registry.address() + "/b/app:v1");

            String digest = a.images().push(registry.address() + "/a/app:v1", Credentials.NONE, null);
            // Another engine, its own compression, another repository (so nothing is mounted): the same manifest.
            assertEquals(digest, b.images().push(registry.address() + "/b/app:v1", Credentials.NONE, null));

            JsonNode manifest;
            try (InputStream in = a.content().read(digest)) {
                manifest = TestImages.JSON.readTree(in);
            }
            Map<Path, FileTime> compressed = new TreeMap<>();
            for (int i = 0; i < layers.size(); i++) {
                JsonNode layer = manifest.path("layers").get(i);
                assertEquals("application/vnd.oci.image.layer.v1.tar+gzip", layer.path("mediaType").asText());
                String blob = layer.path("digest").asText();
                byte[] gzip;
                try (InputStream in = a.content().read(blob)) {
                    gzip = in.readAllBytes();
                }
                assertEquals(layer.path("size").asLong(), gzip.length);
                // gzip header: no file name (FLG 0), no time (MTIME 0), OS "unknown" (255)
                assertEquals(0, gzip[3], "FLG of " + blob);
                assertArrayEquals(new byte[4], Arrays.copyOfRange(gzip, 4, 8), "MTIME of " + blob);
                assertEquals((byte) 255, gzip[9], "OS of " + blob);
                try (InputStream tar = new GZIPInputStream(new ByteArrayInputStream(gzip))) {
                    assertArrayEquals(layers.get(i), tar.readAllBytes(), "layer " + i + " decompressed");
                }
                // The random layers do not compress: they are stored (first deflate block of type 00). The text
                // layer is deflated, at level 1 (XFL 4).
                if (i < 2) {
                    assertEquals(0, gzip[10] & 0x06, "a stored block first in layer " + i);
                    assertTrue(gzip.length < layers.get(i).length + layers.get(i).length / 1000 + 100, blob);
                } else if (i == 2) {
                    assertEquals(4, gzip[8], "XFL of the text layer");
                    assertTrue(gzip.length < layers.get(i).length / 5, gzip.length + " bytes");
                }
                compressed.put(a.content().path(blob), Files.getLastModifiedTime(a.content().path(blob)));
            }

            // The second push finds every blob it compressed the first time: nothing is compressed or sent again.
            Snapshot before = snapshot(a);
            int requests = registry.requests().size();
            assertEquals(digest, a.images().push(registry.address() + "/a/app:v1", Credentials.NONE, null));
            assertEquals(before, snapshot(a));
            compressed.forEach((file, time) -> assertEquals(time, lastModified(file), "rewritten: " + file));
            List<Request> added = registry.requests().subList(requests, registry.requests().size());
            assertEquals(0, added.stream().filter(r -> r.method().equals("PATCH") || r.method().equals("PUT")
                    && r.path().contains("/blobs/")).count(), added.toString());
        }
    }

    @Test
    void anImageRemovedWhileItIsPushedFailsThePushCleanlyOrLetsItFinishAndLeavesNothingBehind() throws Exception {
        List<byte[]> layers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            layers.add(randomLayer(random, "big/" + i, 3_000_000));
        }
        try (DockerRegistry registry = DockerRegistry.start(temp.resolve("registry"))) {
            Stores a = TestImages.stores(temp.resolve("a"));
            List<String> outcomes = new ArrayList<>();
            // rmi at different moments: before, while and after the layers are compressed (timing decides which
            // the push sees; every outcome must be clean).
            for (int delayMillis : new int[] {0, 5, 20, 50, 100, 200, 400}) {
                String remote = registry.address() + "/race/app:" + delayMillis;
                String id = TestImages.load(a, remote, layers);
                CompletableFuture<String> push = CompletableFuture.supplyAsync(() -> {
                    try {
                        return a.images().push(remote, Credentials.NONE, null);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                Thread.sleep(delayMillis);
                a.images().remove(id, true);
                try {
                    String digest = push.get();
                    outcomes.add(delayMillis + " ms: pushed");
                    // What the registry got is whole: another engine pulls the same image.
                    Stores b = TestImages.stores(temp.resolve("b" + delayMillis));
                    Image pulled = b.images().pull(remote, null, Credentials.NONE, null);
                    assertEquals(id, pulled.id());
                    assertEquals(List.of(registry.address() + "/race/app@" + digest), pulled.repoDigests());
                } catch (ExecutionException e) {
                    Throwable failure = e.getCause() instanceof UncheckedIOException u ? u.getCause()
                            : e.getCause();
                    String message = failure.getMessage();
                    outcomes.add(delayMillis + " ms: " + message);
                    assertNotNull(message);
                    boolean removedFirst = failure instanceof NoSuchElementException
                            && message.equals("An image does not exist locally with the tag: " + remote);
                    boolean removedWhileCompressing = failure instanceof NoSuchElementException
                            && message.equals("cannot push " + remote + ": the image " + id
                                    + " was removed while its layers were compressed");
                    boolean removedWhileUploading = failure instanceof IOException
                            && (message.contains("not in the content store")
                                    || message.contains("not found in content store"));
                    assertTrue(removedFirst || removedWhileCompressing || removedWhileUploading,
                            "a clear error: " + failure);
                }
                assertEquals(Snapshot.EMPTY, snapshot(a), "nothing left after " + outcomes);
                assertEquals(List.of(), Files.list(temp.resolve("a/content/ingest")).toList());
            }
            System.out.println("rmi while pushing: " + outcomes);
        }
    }

    private static FileTime lastModified(Path file) {
        try {
            return Files.getLastModifiedTime(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
