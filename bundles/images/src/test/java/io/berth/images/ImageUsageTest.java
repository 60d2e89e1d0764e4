package io.berth.images;

import static io.berth.images.FileImageStoreTest.dockerArchive;
import static io.berth.images.FileImageStoreTest.tar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.images.FileImageStoreTest.Stores;
import io.berth.images.FileImageStoreTest.TestImage;
import io.berth.spi.images.Image;
import io.berth.spi.images.ImageDiskUsage;
import io.berth.spi.images.ImageHistory;
import io.berth.spi.images.ImagePruneReport;
import io.berth.spi.images.ImageUsers;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** History, inspect, disk usage, prune and rmi while containers (ImageUsers) use images. */
class ImageUsageTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONTAINER = "c0ffee".repeat(10) + "c0ff";

    @TempDir
    Path temp;

    /** Which containers use which image: what the container store will say. */
    private final Map<String, List<ImageUsers.User>> users = new HashMap<>();
    private Stores stores;

    @BeforeEach
    void setUp() throws Exception {
        stores = Stores.at(temp.resolve("engine"), imageId -> users.getOrDefault(imageId, List.of()));
    }

    private Image load(TestImage image, String... names) throws Exception {
        Map<TestImage, List<String>> images = new LinkedHashMap<>();
        images.put(image, List.of(names));
        return stores.images().load(new ByteArrayInputStream(dockerArchive(true, false, images))).get(0);
    }

    private Image imported(String name) throws Exception {
        return stores.images().importImage(new ByteArrayInputStream(tar(Map.of("f", name))), name, null, List.of());
    }

    /** A two-layer image whose history has an empty-layer step between the layers, as a build writes it. */
    private static TestImage built() throws Exception {
        TestImage plain = TestImage.of("2024-01-01T00:00:00Z", Map.of("base", "base content"), Map.of("app", "app"));
        ObjectNode config = (ObjectNode) JSON.readTree(plain.config());
        ArrayNode history = config.putArray("history");
        history.addObject().put("created", "2024-01-01T00:00:00Z").put("created_by", "ADD base.tar /");
        history.addObject().put("created", "2024-01-01T00:00:01Z").put("created_by", "ENV A=1").put("empty_layer", true);
        history.addObject().put("created", "2024-01-01T00:00:02Z").put("created_by", "COPY app /").put("comment", "top");
        return new TestImage(plain.layers(), JSON.writeValueAsBytes(config));
    }

    @Test
    void historyIsNewestFirstWithMissingIdsBelowTheTopAndLayerSizes() throws Exception {
        Image image = load(built(), "app:1");
        List<ImageHistory> history = stores.images().history("app:1");
        assertEquals(3, history.size());
        assertEquals(image.id(), history.get(0).id());
        assertEquals(List.of("app:1"), history.get(0).tags());
        assertEquals("COPY app /", history.get(0).createdBy());
        assertEquals("top", history.get(0).comment());
        assertEquals(stores.layers().get(image.layers().get(1)).size(), history.get(0).size());
        assertEquals("<missing>", history.get(1).id());
        assertEquals(0, history.get(1).size());
        assertEquals(List.of(), history.get(1).tags());
        assertEquals("<missing>", history.get(2).id());
        assertEquals(stores.layers().get(image.layers().get(0)).size(), history.get(2).size());
        assertTrue(history.get(2).size() > 0);

        Image importedImage = imported("imported");
        List<ImageHistory> importHistory = stores.images().history(importedImage.id());
        assertEquals(1, importHistory.size());
        assertEquals("Imported from -", importHistory.get(0).comment());
        assertEquals(List.of("imported:latest"), importHistory.get(0).tags());
    }

    @Test
    void inspectHasDockersShape() throws Exception {
        Image image = stores.images().importImage(new ByteArrayInputStream(tar(Map.of("f", "x"))), "app:2", "msg",
                List.of("CMD [\"/f\"]"));
        JsonNode doc = JSON.readTree(stores.images().inspect("app:2"));
        for (String key : List.of("Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created", "DockerVersion",
                "Author", "Config", "Architecture", "Os", "Size", "GraphDriver", "RootFS", "Metadata")) {
            assertTrue(doc.has(key), key + " missing in " + doc);
        }
        assertEquals(image.id(), doc.get("Id").asText());
        assertEquals("[\"app:2\"]", doc.get("RepoTags").toString());
        assertEquals("msg", doc.get("Comment").asText());
        assertEquals("[\"/f\"]", doc.get("Config").get("Cmd").toString());
        assertEquals(image.size(), doc.get("Size").asLong());
        assertEquals("vfs", doc.get("GraphDriver").get("Name").asText());
        assertEquals("layers", doc.get("RootFS").get("Type").asText());
        assertEquals(image.layers(), List.of(doc.get("RootFS").get("Layers").get(0).asText()));
        assertThrows(java.util.NoSuchElementException.class, () -> stores.images().inspect("nothing:here"));
    }

    @Test
    void diskUsageCountsSharedLayersOnce() throws Exception {
        TestImage a = TestImage.of("2024-01-01T00:00:00Z", Map.of("base", "shared base"), Map.of("a", "aaaa"));
        TestImage b = TestImage.of("2024-01-02T00:00:00Z", Map.of("base", "shared base"), Map.of("b", "bbbbbbbb"));
        Image imageA = load(a, "a:1");
        Image imageB = load(b, "b:1");
        long base = stores.layers().get(imageA.layers().get(0)).size();
        long topA = stores.layers().get(imageA.layers().get(1)).size();
        long topB = stores.layers().get(imageB.layers().get(1)).size();
        users.put(imageA.id(), List.of(new ImageUsers.User(CONTAINER, false)));

        ImageDiskUsage usage = stores.images().diskUsage();
        assertEquals(base + topA + topB, usage.layersSize());
        assertEquals(2, usage.images().size());
        ImageDiskUsage.Entry first = usage.images().get(0); // newest first: b
        assertEquals(imageB.id(), first.image().id());
        assertEquals(base, first.sharedSize());
        assertEquals(topB, first.uniqueSize());
        assertEquals(0, first.containers());
        assertEquals(1, usage.images().get(1).containers());
        assertEquals(topA, usage.images().get(1).uniqueSize());
    }

    @Test
    void pruneTakesDanglingImagesOrWithAllEveryUnusedOneButNeverAUsedOne() throws Exception {
        Image named = imported("named");
        Image dangling = stores.images().importImage(new ByteArrayInputStream(tar(Map.of("d", "d"))), null, null, null);
        Image usedDangling = stores.images().importImage(new ByteArrayInputStream(tar(Map.of("u", "u"))), null, null,
                null);
        Image usedNamed = imported("usednamed");
        users.put(usedDangling.id(), List.of(new ImageUsers.User(CONTAINER, false)));
        users.put(usedNamed.id(), List.of(new ImageUsers.User(CONTAINER, true)));

        ImagePruneReport dangles = stores.images().prune(false);
        assertTrue(dangles.deleted().contains("Deleted: " + dangling.id()), dangles.toString());
        assertTrue(dangles.spaceReclaimed() > 0);
        assertNull(stores.images().find(dangling.id()));
        assertNotNull(stores.images().find(usedDangling.id()));
        assertNotNull(stores.images().find("named"));

        ImagePruneReport all = stores.images().prune(true);
        assertEquals("Untagged: named:latest", all.deleted().get(0));
        assertTrue(all.deleted().contains("Deleted: " + named.id()), all.toString());
        assertNull(stores.images().find(named.id()));
        List<String> left = new ArrayList<>();
        stores.images().list().forEach(image -> left.add(image.id()));
        assertEquals(List.of(usedNamed.id(), usedDangling.id()).stream().sorted().toList(), left.stream().sorted().toList());
    }

    @Test
    void rmiOfANameAContainerUsesNeedsForceAndKeepsTheImageWhileItRuns() throws Exception {
        Image image = imported("app");
        users.put(image.id(), List.of(new ImageUsers.User(CONTAINER, true)));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> stores.images().remove("app", false));
        assertEquals("conflict: unable to remove repository reference \"app\" (must force) - container "
                + CONTAINER.substring(0, 12) + " is using its referenced image " + image.id().substring(7, 19),
                e.getMessage());
        assertEquals(List.of("app:latest"), stores.images().find(image.id()).repoTags());

        assertEquals(List.of("Untagged: app:latest"), stores.images().remove("app", true));
        assertEquals(List.of(), stores.images().find(image.id()).repoTags()); // dangling, still there
    }

    @Test
    void rmiByIdIsRefusedWhileAContainerRunsAndNeedsForceForAStoppedOne() throws Exception {
        Image image = imported("app");
        users.put(image.id(), List.of(new ImageUsers.User(CONTAINER, true)));
        IllegalStateException running = assertThrows(IllegalStateException.class,
                () -> stores.images().remove(image.id(), true));
        assertEquals("conflict: unable to delete " + image.id().substring(7, 19)
                + " (cannot be forced) - image is being used by running container " + CONTAINER.substring(0, 12),
                running.getMessage());

        users.put(image.id(), List.of(new ImageUsers.User(CONTAINER, false)));
        IllegalStateException stopped = assertThrows(IllegalStateException.class,
                () -> stores.images().remove(image.id(), false));
        assertEquals("conflict: unable to delete " + image.id().substring(7, 19)
                + " (must be forced) - image is being used by stopped container " + CONTAINER.substring(0, 12),
                stopped.getMessage());
        assertNotNull(stores.images().find("app"));

        List<String> removed = stores.images().remove(image.id(), true);
        assertEquals("Untagged: app:latest", removed.get(0));
        assertEquals("Deleted: " + image.id(), removed.get(1));
        assertNull(stores.images().find(image.id()));
    }
}
