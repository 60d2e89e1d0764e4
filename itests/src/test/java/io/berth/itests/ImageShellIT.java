package io.berth.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image commands of berth-shell against berthd as a process (the full distribution, so the zstd-jni and xz
 * bundles load as they do in production), with skopeo as the peer that writes and reads archives.
 */
class ImageShellIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern ID = Pattern.compile("sha256:[0-9a-f]{64}");

    @TempDir
    Path dir;

    private BerthDaemon daemon;

    @BeforeEach
    void startDaemon() throws Exception {
        daemon = BerthDaemon.start(DistributionBundles.distribution(), dir.resolve("daemon"));
    }

    @AfterEach
    void stopDaemon() throws Exception {
        daemon.close();
    }

    private Commands.Result shell(String command) throws Exception {
        Commands.Result result = daemon.shell(command);
        assertEquals(0, result.exitCode(), () -> command + "\n" + result);
        return result;
    }

    /** A rootfs tar written by GNU tar from a directory with a few files. */
    private Path rootfs(String name) throws Exception {
        Path root = Files.createDirectories(dir.resolve(name + "-root/etc"));
        Files.writeString(root.resolve("hostname"), name + "\n");
        Files.writeString(root.resolve("motd"), "built by " + name + "\n");
        Path tar = dir.resolve(name + ".tar");
        run("tar", "-C", root.getParent().toString(), "-cf", tar.toString(), ".");
        return tar;
    }

    private static Commands.Result run(String... command) throws Exception {
        Commands.Result result = Commands.run(command);
        assertEquals(0, result.exitCode(), () -> String.join(" ", command) + "\n" + result);
        return result;
    }

    private static String id(String output) {
        Matcher m = ID.matcher(output);
        assertTrue(m.find(), output);
        return m.group();
    }

    @Test
    void importWithChangesAndMessageThenHistoryAndInspect() throws Exception {
        Path tar = rootfs("imp");
        run("xz", "-k", tar.toString()); // imp.tar.xz: the xz bundle decodes it inside the daemon
        String id = id(shell("berth:import --change 'CMD [\"/bin/sh\"]' --change 'ENV A=1 B=\"two words\"'"
                + " --message 'first cut' " + tar + ".xz berth-test/imp:1").stdout());

        String history = shell("berth:history berth-test/imp:1").stdout();
        assertTrue(history.lines().anyMatch(line -> line.startsWith(id.substring(7, 19)) && line.endsWith("first cut")),
                history);

        JsonNode inspect = JSON.readTree(shell("berth:image-inspect berth-test/imp:1").stdout());
        assertEquals(1, inspect.size());
        JsonNode doc = inspect.get(0);
        assertEquals(id, doc.get("Id").asText());
        assertEquals("[\"berth-test/imp:1\"]", doc.get("RepoTags").toString());
        assertEquals("first cut", doc.get("Comment").asText());
        assertEquals("[\"/bin/sh\"]", doc.get("Config").get("Cmd").toString());
        assertEquals("[\"A=1\",\"B=two words\"]", doc.get("Config").get("Env").toString());
        assertEquals(1, doc.get("RootFS").get("Layers").size());

        // "-" reads the command's input: here Gogo's redirection of a gzipped tar.
        run("gzip", "-k", tar.toString());
        String piped = id(shell("berth:import - berth-test/imp:gz < " + tar + ".gz").stdout());
        assertEquals(doc.get("RootFS").toString(),
                JSON.readTree(shell("berth:image-inspect " + piped).stdout()).get(0).get("RootFS").toString());

        Commands.Result bad = daemon.shell("berth:import --change 'RUN make' " + tar + " berth-test/bad");
        assertNotEquals(0, bad.exitCode(), bad::toString);
        assertTrue(bad.stderr().contains("run is not a valid change command"), bad::toString);
        Path text = Files.writeString(dir.resolve("text.tar"), "not a tar\n".repeat(300));
        Commands.Result notTar = daemon.shell("berth:import " + text + " berth-test/bad");
        assertNotEquals(0, notTar.exitCode(), notTar::toString);
        assertTrue(notTar.stderr().contains("invalid rootfs archive"), notTar::toString);
        assertFalse(shell("berth:images").stdout().contains("berth-test/bad"));
    }

    @Test
    void danglingImagesArePrunedAndDiskUsageShowsSharedAndUniqueSizes() throws Exception {
        Path tar = rootfs("df");
        String named = id(shell("berth:import " + tar + " berth-test/df:1").stdout());
        String dangling = id(shell("berth:import --message other " + tar).stdout());
        assertNotEquals(named, dangling);

        String onlyDangling = shell("berth:images -f dangling=true").stdout();
        assertTrue(onlyDangling.contains(dangling.substring(7, 19)), onlyDangling);
        assertFalse(onlyDangling.contains("berth-test/df"), onlyDangling);

        String df = shell("berth:system-df -v").stdout();
        assertTrue(df.lines().anyMatch(line -> line.matches("Images\\s+2\\s+0\\s+\\S+\\s+\\S+ \\(100%\\)")), df);
        // Both images have the one layer: all of it shared, nothing unique.
        assertTrue(df.lines().anyMatch(line -> line.matches("berth-test/df\\s+1\\s+" + named.substring(7, 19)
                + "\\s+\\S+\\s+(\\S+)\\s+\\1\\s+0B\\s+0")), df);

        String prune = shell("berth:image-prune").stdout();
        assertTrue(prune.contains("deleted: " + dangling), prune);
        assertTrue(prune.contains("Total reclaimed space: 0B"), prune); // the layer stays with the named image
        String all = shell("berth:image-prune -a").stdout();
        assertTrue(all.contains("untagged: berth-test/df:1") && all.contains("deleted: " + named), all);
        assertFalse(all.contains("Total reclaimed space: 0B"), all);
        assertEquals(1, shell("berth:images").stdout().lines().count(), "only the header is left");
    }

    @Test
    void skopeoReadsWhatBerthSavesAndBerthLoadsWhatSkopeoWrites() throws Exception {
        String id = id(shell("berth:import " + rootfs("sk") + " berth-test/sk:1").stdout());
        Path saved = dir.resolve("saved.tar");
        shell("berth:save " + saved + " berth-test/sk:1");
        JsonNode config = JSON.readTree(shell("berth:image-inspect berth-test/sk:1").stdout()).get(0);
        String diffId = config.get("RootFS").get("Layers").get(0).asText();

        // skopeo reads berth's archive as it is: the config berth wrote and the uncompressed layer.
        JsonNode raw = JSON.readTree(run("skopeo", "inspect", "--raw", "docker-archive:" + saved).stdout());
        assertEquals(id, raw.get("config").get("digest").asText());
        assertEquals(List.of(diffId), List.of(raw.get("layers").get(0).get("digest").asText()));
        JsonNode skopeoConfig = JSON.readTree(run("skopeo", "inspect", "--config", "docker-archive:" + saved).stdout());
        assertEquals(List.of(diffId), strings(skopeoConfig.get("rootfs").get("diff_ids")));
        Path copied = dir.resolve("dir-copy");
        run("skopeo", "copy", "-q", "docker-archive:" + saved, "dir:" + copied);
        assertEquals(id, JSON.readTree(copied.resolve("manifest.json").toFile()).get("config").get("digest").asText());

        // To an OCI layout skopeo converts the config (containers/image re-serialises it as an OCI config, as it
        // does for any docker-archive), so the id changes there; the layer and the diff ids do not.
        Path oci = dir.resolve("oci");
        run("skopeo", "copy", "-q", "docker-archive:" + saved, "oci:" + oci + ":sk");
        JsonNode manifest = ociManifest(oci);
        assertEquals(diffId, uncompressedDigest(oci, manifest.get("layers").get(0)), "the layer is berth's tar");
        String ociConfig = manifest.get("config").get("digest").asText();
        JsonNode converted = JSON.readTree(oci.resolve("blobs/sha256/" + ociConfig.substring(7)).toFile());
        assertEquals(List.of(diffId), strings(converted.get("rootfs").get("diff_ids")));

        // skopeo's docker-archive of that OCI layout loads with its name and skopeo's config.
        Path fromSkopeo = dir.resolve("from-skopeo.tar");
        run("skopeo", "copy", "-q", "oci:" + oci + ":sk", "docker-archive:" + fromSkopeo + ":berth-test/skopeo:7");
        Commands.Result load = shell("berth:load " + fromSkopeo);
        assertTrue(load.stdout().contains("Loaded image: berth-test/skopeo:7"), load::toString);
        JsonNode loaded = JSON.readTree(shell("berth:image-inspect berth-test/skopeo:7").stdout()).get(0);
        assertEquals(ociConfig, loaded.get("Id").asText());
        assertEquals(List.of(diffId), strings(loaded.get("RootFS").get("Layers")));
    }

    @Test
    void anOciLayoutWithZstdLayersFromSkopeoLoadsInTheDaemon() throws Exception {
        shell("berth:import " + rootfs("zs") + " berth-test/zs:1");
        String diffId = JSON.readTree(shell("berth:image-inspect berth-test/zs:1").stdout()).get(0).get("RootFS")
                .get("Layers").get(0).asText();
        Path saved = dir.resolve("saved.tar");
        shell("berth:save " + saved + " berth-test/zs:1");
        shell("berth:rmi berth-test/zs:1");
        Path oci = dir.resolve("zstd-oci");
        run("skopeo", "copy", "-q", "--dest-compress-format", "zstd", "docker-archive:" + saved,
                "oci:" + oci + ":berth-test/zs:zstd");
        assertEquals("application/vnd.oci.image.layer.v1.tar+zstd",
                ociManifest(oci).get("layers").get(0).get("mediaType").asText());
        Path layout = dir.resolve("zstd-oci.tar");
        run("tar", "-C", oci.toString(), "-cf", layout.toString(), ".");

        Commands.Result load = shell("berth:load " + layout);
        assertTrue(load.stdout().contains("Loaded image: berth-test/zs:zstd"), load::toString);
        JsonNode loaded = JSON.readTree(shell("berth:image-inspect berth-test/zs:zstd").stdout()).get(0);
        assertEquals(ociManifest(oci).get("config").get("digest").asText(), loaded.get("Id").asText());
        assertEquals(List.of(diffId), strings(loaded.get("RootFS").get("Layers")), "the zstd layer decompressed");
        assertTrue(shell("berth:layers").stdout().lines().anyMatch(line -> line.matches("[0-9a-f]{12}\\s+vfs\\s.*")));
    }

    private static JsonNode ociManifest(Path layout) throws Exception {
        JsonNode index = JSON.readTree(layout.resolve("index.json").toFile());
        String digest = index.get("manifests").get(0).get("digest").asText();
        return JSON.readTree(layout.resolve("blobs/sha256/" + digest.substring(7)).toFile());
    }

    /** sha256 of a layer blob of an OCI layout, gunzipped when its media type says gzip. */
    private static String uncompressedDigest(Path layout, JsonNode descriptor) throws Exception {
        Path blob = layout.resolve("blobs/sha256/" + descriptor.get("digest").asText().substring(7));
        try (java.io.InputStream raw = Files.newInputStream(blob);
             java.io.InputStream in = descriptor.get("mediaType").asText().endsWith("+gzip")
                     ? new java.util.zip.GZIPInputStream(raw) : raw) {
            java.security.MessageDigest sha256 = java.security.MessageDigest.getInstance("SHA-256");
            sha256.update(in.readAllBytes());
            return "sha256:" + java.util.HexFormat.of().formatHex(sha256.digest());
        }
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(node -> values.add(node.asText()));
        return values;
    }

}
