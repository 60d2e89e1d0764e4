package io.berth.images;

import static io.berth.images.FileImageStoreTest.sha256;
import static io.berth.images.FileImageStoreTest.tar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.images.FileImageStoreTest.Stores;
import io.berth.spi.images.Image;
import io.berth.spi.images.Layer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** docker import: a rootfs tar in any compression Docker takes becomes a one-layer image; bad input stores nothing. */
class ImageImportTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path temp;

    private Stores stores;
    private byte[] rootfs;

    @BeforeEach
    void setUp() throws IOException {
        stores = Stores.at(temp.resolve("engine"));
        Map<String, String> files = new LinkedHashMap<>();
        files.put("bin/sh", "#!shell");
        files.put("etc/hostname", "box");
        rootfs = tar(files);
    }

    /** The data compressed by a real tool: gzip, bzip2, xz or zstd. */
    private byte[] compressed(String tool, byte[] data) throws Exception {
        Path in = Files.write(temp.resolve("in-" + tool), data);
        Process process = new ProcessBuilder(tool, "-c", in.toString()).redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        byte[] out = process.getInputStream().readAllBytes();
        assertEquals(0, process.waitFor(), tool + " failed");
        return out;
    }

    private JsonNode config(Image image) throws IOException {
        return JSON.readTree(stores.images().config(image.id()));
    }

    record Snapshot(List<Image> images, List<Layer> layers, List<String> blobs, List<Path> spooled) {
    }

    private Snapshot snapshot() throws IOException {
        Path tmp = temp.resolve("engine/store/tmp");
        List<Path> spooled = Files.isDirectory(tmp) ? Files.list(tmp).sorted().toList() : List.of();
        return new Snapshot(stores.images().list(), stores.layers().layers(), stores.content().list(), spooled);
    }

    @Test
    void aPlainOrCompressedRootfsBecomesAOneLayerImageAsDockerWritesIt() throws Exception {
        String diffId = "sha256:" + sha256(rootfs);
        Map<String, byte[]> inputs = new LinkedHashMap<>();
        inputs.put("plain", rootfs);
        for (String tool : List.of("gzip", "bzip2", "xz", "zstd")) {
            inputs.put(tool, compressed(tool, rootfs));
        }
        for (Map.Entry<String, byte[]> input : inputs.entrySet()) {
            Image image = stores.images().importImage(new ByteArrayInputStream(input.getValue()),
                    "imported:" + input.getKey(), null, List.of());
            assertEquals(List.of("imported:" + input.getKey()), image.repoTags(), input.getKey());
            assertEquals(List.of(diffId), image.layers(), input.getKey());
            JsonNode config = config(image);
            assertEquals(diffId, config.path("rootfs").path("diff_ids").get(0).asText());
            assertEquals("layers", config.path("rootfs").path("type").asText());
            assertEquals("Imported from -", config.path("comment").asText());
            assertEquals(1, config.path("history").size());
            assertEquals("Imported from -", config.path("history").get(0).path("comment").asText());
            assertEquals(config.path("created").asText(), config.path("history").get(0).path("created").asText());
            assertEquals("linux", config.path("os").asText());
            assertEquals(Manifests.Platform.host().architecture(), config.path("architecture").asText());
        }
        // One layer for all five: the same uncompressed tar.
        assertEquals(1, stores.layers().layers().size());
        assertEquals(5, stores.images().list().size());
    }

    @Test
    void theMessageAndTheChangesGoIntoTheConfig() throws Exception {
        Image image = stores.images().importImage(new ByteArrayInputStream(rootfs), "app", "first cut",
                List.of("CMD [\"/bin/sh\"]", "ENV A=1", "EXPOSE 8080", "WORKDIR /srv"));
        assertEquals(List.of("app:latest"), image.repoTags());
        JsonNode config = config(image);
        assertEquals("first cut", config.path("comment").asText());
        assertEquals("first cut", config.path("history").get(0).path("comment").asText());
        assertEquals("{\"Cmd\":[\"/bin/sh\"],\"Env\":[\"A=1\"],\"ExposedPorts\":{\"8080/tcp\":{}},\"WorkingDir\":\"/srv\"}",
                JSON.writeValueAsString(config.path("config")));
    }

    @Test
    void withoutAReferenceTheImageHasNoName() throws Exception {
        Image image = stores.images().importImage(new ByteArrayInputStream(rootfs), null, null, null);
        assertEquals(List.of(), image.repoTags());
        assertEquals(image.id(), stores.images().find(image.id()).id());
    }

    @Test
    void badChangesAreRefusedBeforeTheStreamIsRead() throws Exception {
        Snapshot before = snapshot();
        InputStream unread = new InputStream() {
            @Override
            public int read() {
                throw new AssertionError("the stream was read");
            }
        };
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> stores.images().importImage(unread, "app", null, List.of("RUN rm -rf /")));
        assertEquals("run is not a valid change command", e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> stores.images().importImage(unread, "app@sha256:" + "a".repeat(64), null, List.of()));
        assertEquals(before, snapshot());
    }

    @Test
    void whatIsNotAWholeTarIsRefusedAndStoresNothing() throws Exception {
        stores.images().importImage(new ByteArrayInputStream(rootfs), "kept", null, List.of());
        Snapshot before = snapshot();
        Map<String, byte[]> bad = new LinkedHashMap<>();
        bad.put("empty", new byte[0]);
        bad.put("text", "just some text, not a tar".getBytes());
        bad.put("long text", "not a tar at all. ".repeat(200).getBytes());
        bad.put("truncated", Arrays.copyOf(rootfs, 700));
        byte[] gzip = compressed("gzip", rootfs);
        bad.put("truncated gzip", Arrays.copyOf(gzip, gzip.length / 2));
        Map<String, String> hostile = Map.of("../escape", "x");
        bad.put("hostile", tar(hostile));
        for (Map.Entry<String, byte[]> input : bad.entrySet()) {
            IOException e = assertThrows(IOException.class, () -> stores.images().importImage(
                    new ByteArrayInputStream(input.getValue()), "bad:" + input.getKey().replace(' ', '-'), null,
                    List.of()), input.getKey());
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), input.getKey());
            if (!input.getKey().equals("hostile")) {
                assertTrue(e.getMessage().startsWith("invalid rootfs archive: "), input.getKey() + ": " + e.getMessage());
            }
            assertEquals(before, snapshot(), input.getKey());
        }
    }

    @Test
    void commitAddsALayerOnTheParentsWithTheContainersConfigAndAHistoryEntry() throws Exception {
        Image base = stores.images().importImage(new ByteArrayInputStream(rootfs), "base:1", null,
                List.of("CMD [\"sh\"]"));
        byte[] changes = tar(Map.of("etc/motd", "hello"));
        var config = new io.berth.spi.containers.ContainerConfig("c0ffee", null, null, false, false, false, null,
                false, false, false, List.of("A=1"), List.of("sh", "-c", "echo hi"), "base:1", null, null, null,
                null, null, null);
        var request = new io.berth.spi.containers.CommitRequest("committed:1", "a message", "Ann <ann@x>",
                List.of("ENV B=2"), false);
        String container = "c".repeat(64);
        Image image = stores.images().commit(base.id(), new ByteArrayInputStream(changes), config, request,
                container, "sh -c echo hi");
        assertEquals(List.of("committed:1"), image.repoTags());
        JsonNode committed = config(image);
        assertEquals(List.of(config(base).get("rootfs").get("diff_ids").get(0).asText(), "sha256:" + sha256(changes)),
                JSON.convertValue(committed.get("rootfs").get("diff_ids"), List.class));
        assertEquals(container, committed.get("container").asText());
        assertEquals("Ann <ann@x>", committed.get("author").asText());
        assertEquals("[\"A=1\",\"B=2\"]", committed.get("config").get("Env").toString(), "changes apply on top");
        assertEquals("[\"sh\",\"-c\",\"echo hi\"]", committed.get("config").get("Cmd").toString());
        JsonNode history = committed.get("history");
        assertEquals(2, history.size());
        assertEquals("sh -c echo hi", history.get(1).get("created_by").asText());
        assertEquals("a message", history.get(1).get("comment").asText());
        assertEquals(2, stores.layers().layers().size(), "the parent's layer is shared, not copied");

        Snapshot before = snapshot();
        var bad = new io.berth.spi.containers.CommitRequest("bad:1", null, null, List.of("FROB x"), false);
        assertThrows(IllegalArgumentException.class, () -> stores.images().commit(base.id(),
                new ByteArrayInputStream(changes), config, bad, container, "sh"));
        assertThrows(java.util.NoSuchElementException.class, () -> stores.images().commit("sha256:" + "0".repeat(64),
                new ByteArrayInputStream(changes), config, request, container, "sh"));
        assertEquals(before, snapshot(), "a refused commit stores nothing");
    }
}
