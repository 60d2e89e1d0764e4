package io.berth.registry.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 4's acceptance with real clients: skopeo pushes a multi-layer image
 * into the server over plain HTTP and pulls it back with identical digests;
 * curl reads the catalog and the tags list. (Over TLS with verification, see
 * {@link RegistrySecurityTest}.)
 */
class SkopeoAcceptanceTest {

    @TempDir
    Path temp;

    private RegistryServer server;
    private String registry;
    private final ObjectMapper json = new ObjectMapper();

    @BeforeEach
    void start() throws Exception {
        server = new RegistryServer(temp.resolve("registry"), "127.0.0.1", 0);
        server.start();
        registry = "127.0.0.1:" + server.port();
    }

    @AfterEach
    void stop() throws Exception {
        server.stop();
    }

    @Test
    void skopeoPushesAndPullsBackAMultiLayerImage() throws Exception {
        Map<String, byte[]> small = new LinkedHashMap<>();
        for (int i = 0; i < 200; i++) {
            small.put("etc/conf.d/file-" + i, ("setting " + i + "\n").getBytes());
        }
        Path source = temp.resolve("source");
        String digest = OciLayout.write(source, "v1",
                Map.of("bin/tool", OciLayout.random(3 * 1024 * 1024, 1)),
                small,
                Map.of("data/blob", OciLayout.random(512 * 1024, 2), "data/empty", new byte[0]));

        Processes.run("skopeo", "copy", "--dest-tls-verify=false",
                "oci:" + source + ":v1", "docker://" + registry + "/acceptance/app:v1").ok();
        // a second push of the same layers under another tag: skopeo finds them there and skips them
        Processes.Result again = Processes.run("skopeo", "--debug", "copy", "--dest-tls-verify=false",
                "oci:" + source + ":v1", "docker://" + registry + "/acceptance/app:v2").ok();
        assertEquals(3, again.stderr().lines().filter(l -> l.contains("Skipping blob") && l.contains("already present")).count(),
                again.stderr());
        assertEquals(0, again.stderr().lines().filter(l -> l.contains("POST http")).count(), "no upload started");

        Processes.Result inspected = Processes.run("skopeo", "inspect", "--tls-verify=false",
                "--format", "{{.Digest}} {{len .Layers}}", "docker://" + registry + "/acceptance/app:v2").ok();
        assertEquals(digest + " 3", inspected.stdout().strip());

        Path back = temp.resolve("back");
        Processes.run("skopeo", "copy", "--src-tls-verify=false",
                "docker://" + registry + "/acceptance/app:v1", "oci:" + back + ":v1").ok();
        assertEquals(digest, OciLayout.manifestDigestOf(back));
        List<String> blobs = names(source.resolve("blobs/sha256"));
        assertEquals(5, blobs.size(), "manifest, config, three layers");
        assertEquals(blobs, names(back.resolve("blobs/sha256")));
        for (String blob : blobs) {
            assertArrayEquals(Files.readAllBytes(source.resolve("blobs/sha256").resolve(blob)),
                    Files.readAllBytes(back.resolve("blobs/sha256").resolve(blob)), blob);
        }

        JsonNode catalog = curlJson("http://" + registry + "/v2/_catalog");
        assertEquals("{\"repositories\":[\"acceptance/app\"]}", catalog.toString());
        JsonNode tags = curlJson("http://" + registry + "/v2/acceptance/app/tags/list");
        assertEquals("{\"name\":\"acceptance/app\",\"tags\":[\"v1\",\"v2\"]}", tags.toString());
        JsonNode page = curlJson("http://" + registry + "/v2/acceptance/app/tags/list?n=1");
        assertEquals("[\"v1\"]", page.path("tags").toString());
    }

    private JsonNode curlJson(String url) throws Exception {
        return json.readTree(Processes.run("curl", "-sS", "--fail", url).ok().stdout());
    }

    private static List<String> names(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
