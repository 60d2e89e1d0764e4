package io.berth.registry.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.storage.support.DiskFiles;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryServerTest {

    private static final String OCI_MANIFEST = RegistryStorage.OCI_MANIFEST;
    private static final String OCI_INDEX = RegistryStorage.OCI_INDEX;

    @TempDir
    Path temp;

    private RegistryServer server;
    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();
    private String base;

    @BeforeEach
    void start() throws Exception {
        server = new RegistryServer(temp.resolve("registry"), "127.0.0.1", 0);
        server.start();
        base = "http://127.0.0.1:" + server.port();
    }

    @AfterEach
    void stop() throws Exception {
        server.stop();
    }

    // ---------------------------------------------------------------- helpers

    private HttpResponse<byte[]> send(String method, String path, byte[] body, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
                .method(method, body == null ? BodyPublishers.noBody() : BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return http.send(request.build(), BodyHandlers.ofByteArray());
    }

    private HttpResponse<byte[]> send(String method, String path) throws Exception {
        return send(method, path, null);
    }

    private JsonNode body(HttpResponse<byte[]> response) throws Exception {
        return json.readTree(response.body());
    }

    private String errorCode(HttpResponse<byte[]> response) throws Exception {
        return body(response).path("errors").path(0).path("code").asText();
    }

    private static String header(HttpResponse<?> response, String name) {
        return response.headers().firstValue(name).orElse(null);
    }

    private static String digest(byte[] content) {
        return RegistryStorage.sha256(content);
    }

    private String pushBlob(String repo, byte[] content) throws Exception {
        String digest = digest(content);
        HttpResponse<byte[]> response = send("POST", "/v2/" + repo + "/blobs/uploads/?digest=" + digest, content,
                "Content-Type", "application/octet-stream");
        assertEquals(201, response.statusCode(), new String(response.body(), StandardCharsets.UTF_8));
        return digest;
    }

    private ObjectNode descriptor(String mediaType, byte[] content) {
        return json.createObjectNode().put("mediaType", mediaType).put("digest", digest(content)).put("size", content.length);
    }

    private byte[] imageManifest(byte[] config, byte[]... layers) throws Exception {
        ObjectNode manifest = json.createObjectNode().put("schemaVersion", 2).put("mediaType", OCI_MANIFEST);
        manifest.set("config", descriptor("application/vnd.oci.image.config.v1+json", config));
        for (byte[] layer : layers) {
            manifest.withArray("layers").add(descriptor("application/vnd.oci.image.layer.v1.tar", layer));
        }
        if (layers.length == 0) {
            manifest.putArray("layers");
        }
        return json.writeValueAsBytes(manifest);
    }

    private HttpResponse<byte[]> putManifest(String repo, String reference, String mediaType, byte[] manifest) throws Exception {
        return send("PUT", "/v2/" + repo + "/manifests/" + reference, manifest, "Content-Type", mediaType);
    }

    /** Pushes config + layer + manifest under a tag; returns the manifest bytes. */
    private byte[] pushImage(String repo, String tag, String seed) throws Exception {
        byte[] config = ("{\"seed\":\"" + seed + "\"}").getBytes(StandardCharsets.UTF_8);
        byte[] layer = ("layer of " + seed).getBytes(StandardCharsets.UTF_8);
        pushBlob(repo, config);
        pushBlob(repo, layer);
        byte[] manifest = imageManifest(config, layer);
        assertEquals(201, putManifest(repo, tag, OCI_MANIFEST, manifest).statusCode());
        return manifest;
    }

    // ---------------------------------------------------------------- tests

    @Test
    void pingAnswersEmptyObjectWithApiVersionHeader() throws Exception {
        HttpResponse<byte[]> response = send("GET", "/v2/");
        assertEquals(200, response.statusCode());
        assertEquals("registry/2.0", header(response, "Docker-Distribution-API-Version"));
        assertEquals("{}", new String(response.body(), StandardCharsets.UTF_8));
    }

    @Test
    void monolithicPushThenHeadGetAndRangeGet() throws Exception {
        byte[] content = "hello blob".getBytes(StandardCharsets.UTF_8);
        String digest = digest(content);
        HttpResponse<byte[]> pushed = send("POST", "/v2/library/hello/blobs/uploads/?digest=" + digest, content);
        assertEquals(201, pushed.statusCode());
        assertEquals("/v2/library/hello/blobs/" + digest, header(pushed, "Location"));
        assertEquals(digest, header(pushed, "Docker-Content-Digest"));

        HttpResponse<byte[]> head = send("HEAD", "/v2/library/hello/blobs/" + digest);
        assertEquals(200, head.statusCode());
        assertEquals(String.valueOf(content.length), header(head, "Content-Length"));
        assertEquals(digest, header(head, "Docker-Content-Digest"));

        HttpResponse<byte[]> get = send("GET", "/v2/library/hello/blobs/" + digest);
        assertEquals(200, get.statusCode());
        assertArrayEquals(content, get.body());

        HttpResponse<byte[]> range = send("GET", "/v2/library/hello/blobs/" + digest, null, "Range", "bytes=6-9");
        assertEquals(206, range.statusCode());
        assertEquals("blob", new String(range.body(), StandardCharsets.UTF_8));
        assertEquals("bytes 6-9/10", header(range, "Content-Range"));

        HttpResponse<byte[]> otherRepo = send("GET", "/v2/other/blobs/" + digest);
        assertEquals(404, otherRepo.statusCode(), "a repo sees only blobs pushed or mounted into it");
        assertEquals("BLOB_UNKNOWN", errorCode(otherRepo));

        assertEquals(202, send("DELETE", "/v2/library/hello/blobs/" + digest).statusCode());
        assertEquals(404, send("HEAD", "/v2/library/hello/blobs/" + digest).statusCode());
    }

    @Test
    void chunkedUploadChecksContentRange() throws Exception {
        byte[] content = "0123456789abcdef".getBytes(StandardCharsets.UTF_8);
        String digest = digest(content);
        HttpResponse<byte[]> started = send("POST", "/v2/chunked/blobs/uploads/");
        assertEquals(202, started.statusCode());
        assertEquals("0-0", header(started, "Range"));
        String uuid = header(started, "Docker-Upload-UUID");
        String location = header(started, "Location");
        assertEquals("/v2/chunked/blobs/uploads/" + uuid, location);

        HttpResponse<byte[]> first = send("PATCH", location, Arrays.copyOfRange(content, 0, 10),
                "Content-Range", "0-9", "Content-Type", "application/octet-stream");
        assertEquals(202, first.statusCode());
        assertEquals("0-9", header(first, "Range"));

        HttpResponse<byte[]> wrong = send("PATCH", location, Arrays.copyOfRange(content, 10, 16),
                "Content-Range", "12-17", "Content-Type", "application/octet-stream");
        assertEquals(416, wrong.statusCode());
        assertEquals("0-9", header(wrong, "Range"));

        HttpResponse<byte[]> status = send("GET", location);
        assertEquals(204, status.statusCode());
        assertEquals("0-9", header(status, "Range"));

        HttpResponse<byte[]> second = send("PATCH", location, Arrays.copyOfRange(content, 10, 16),
                "Content-Range", "10-15", "Content-Type", "application/octet-stream");
        assertEquals(202, second.statusCode());
        assertEquals("0-15", header(second, "Range"));

        HttpResponse<byte[]> done = send("PUT", location + "?digest=" + digest);
        assertEquals(201, done.statusCode());
        assertArrayEquals(content, send("GET", "/v2/chunked/blobs/" + digest).body());
        assertEquals(404, send("GET", location).statusCode(), "the upload is gone once complete");
    }

    @Test
    void finalChunkOnPutAndCancel() throws Exception {
        byte[] content = "final chunk".getBytes(StandardCharsets.UTF_8);
        String location = header(send("POST", "/v2/put/blobs/uploads/"), "Location");
        HttpResponse<byte[]> done = send("PUT", location + "?digest=" + digest(content), content,
                "Content-Type", "application/octet-stream");
        assertEquals(201, done.statusCode());
        assertEquals(200, send("HEAD", "/v2/put/blobs/" + digest(content)).statusCode());

        String cancelled = header(send("POST", "/v2/put/blobs/uploads/"), "Location");
        assertEquals(204, send("DELETE", cancelled).statusCode());
        HttpResponse<byte[]> gone = send("GET", cancelled);
        assertEquals(404, gone.statusCode());
        assertEquals("BLOB_UPLOAD_UNKNOWN", errorCode(gone));
    }

    @Test
    void digestMismatchIsDigestInvalidAndStoresNothing() throws Exception {
        byte[] content = "actual content".getBytes(StandardCharsets.UTF_8);
        String claimed = digest("other content".getBytes(StandardCharsets.UTF_8));
        HttpResponse<byte[]> response = send("POST", "/v2/bad/blobs/uploads/?digest=" + claimed, content);
        assertEquals(400, response.statusCode());
        assertEquals("DIGEST_INVALID", errorCode(response));
        assertEquals(404, send("HEAD", "/v2/bad/blobs/" + claimed).statusCode());
        assertEquals(404, send("HEAD", "/v2/bad/blobs/" + digest(content)).statusCode());
        try (Stream<Path> blobs = Files.list(server.root().resolve("blobs/sha256"))) {
            assertEquals(0, blobs.count());
        }

        String location = header(send("POST", "/v2/bad/blobs/uploads/"), "Location");
        HttpResponse<byte[]> put = send("PUT", location + "?digest=" + claimed, content);
        assertEquals(400, put.statusCode());
        assertEquals("DIGEST_INVALID", errorCode(put));
    }

    @Test
    void manifestReferencingMissingBlobIsRejected() throws Exception {
        byte[] config = "{}".getBytes(StandardCharsets.UTF_8);
        byte[] layer = "missing layer".getBytes(StandardCharsets.UTF_8);
        pushBlob("app", config);
        HttpResponse<byte[]> response = putManifest("app", "v1", OCI_MANIFEST, imageManifest(config, layer));
        assertEquals(400, response.statusCode());
        assertEquals("MANIFEST_BLOB_UNKNOWN", errorCode(response));
        assertEquals(digest(layer), body(response).path("errors").path(0).path("detail").asText());

        HttpResponse<byte[]> invalid = putManifest("app", "v1", OCI_MANIFEST, "not json".getBytes(StandardCharsets.UTF_8));
        assertEquals("MANIFEST_INVALID", errorCode(invalid));
        HttpResponse<byte[]> schema1 = putManifest("app", "v1", OCI_MANIFEST,
                "{\"schemaVersion\":1}".getBytes(StandardCharsets.UTF_8));
        assertEquals("MANIFEST_INVALID", errorCode(schema1));

        byte[] index = json.writeValueAsBytes(json.createObjectNode().put("schemaVersion", 2).put("mediaType", OCI_INDEX)
                .set("manifests", json.createArrayNode().add(descriptor(OCI_MANIFEST, "nope".getBytes()))));
        HttpResponse<byte[]> indexResponse = putManifest("app", "multi", OCI_INDEX, index);
        assertEquals(400, indexResponse.statusCode());
        assertEquals("MANIFEST_BLOB_UNKNOWN", errorCode(indexResponse));
    }

    @Test
    void manifestPushAndPullByTagAndDigest() throws Exception {
        byte[] manifest = pushImage("library/busybox", "latest", "a");
        String digest = digest(manifest);

        HttpResponse<byte[]> byTag = send("GET", "/v2/library/busybox/manifests/latest");
        assertEquals(200, byTag.statusCode());
        assertEquals(OCI_MANIFEST, header(byTag, "Content-Type"));
        assertEquals(digest, header(byTag, "Docker-Content-Digest"));
        assertArrayEquals(manifest, byTag.body());

        HttpResponse<byte[]> byDigest = send("GET", "/v2/library/busybox/manifests/" + digest);
        assertArrayEquals(manifest, byDigest.body());
        HttpResponse<byte[]> head = send("HEAD", "/v2/library/busybox/manifests/latest");
        assertEquals(200, head.statusCode());
        assertEquals(String.valueOf(manifest.length), header(head, "Content-Length"));

        HttpResponse<byte[]> unknown = send("GET", "/v2/library/busybox/manifests/nope");
        assertEquals(404, unknown.statusCode());
        assertEquals("MANIFEST_UNKNOWN", errorCode(unknown));

        // an index over it, put by digest
        byte[] index = json.writeValueAsBytes(json.createObjectNode().put("schemaVersion", 2).put("mediaType", OCI_INDEX)
                .set("manifests", json.createArrayNode().add(descriptor(OCI_MANIFEST, manifest))));
        HttpResponse<byte[]> putIndex = putManifest("library/busybox", digest(index), OCI_INDEX, index);
        assertEquals(201, putIndex.statusCode());
        assertEquals("/v2/library/busybox/manifests/" + digest(index), header(putIndex, "Location"));
        assertEquals(OCI_INDEX, header(send("GET", "/v2/library/busybox/manifests/" + digest(index)), "Content-Type"));

        HttpResponse<byte[]> wrongDigest = putManifest("library/busybox", digest, OCI_INDEX, index);
        assertEquals("DIGEST_INVALID", errorCode(wrongDigest));
    }

    @Test
    void manifestsAreNegotiatedByAccept() throws Exception {
        byte[] manifest = pushImage("neg", "v1", "n");
        String digest = digest(manifest);
        String docker = RegistryStorage.DOCKER_MANIFEST;

        assertEquals(200, send("GET", "/v2/neg/manifests/v1").statusCode(), "no Accept: what is stored");
        assertEquals(200, send("GET", "/v2/neg/manifests/v1", null, "Accept", "*/*").statusCode());
        HttpResponse<byte[]> listed = send("GET", "/v2/neg/manifests/v1", null,
                "Accept", docker + "; q=0.9, " + OCI_MANIFEST + ";q=0.5");
        assertEquals(200, listed.statusCode());
        assertEquals(OCI_MANIFEST, header(listed, "Content-Type"));
        assertArrayEquals(manifest, listed.body());

        HttpResponse<byte[]> dockerOnly = send("GET", "/v2/neg/manifests/v1", null, "Accept", docker);
        assertEquals(404, dockerOnly.statusCode());
        assertEquals("MANIFEST_UNKNOWN", errorCode(dockerOnly));
        assertTrue(body(dockerOnly).path("errors").path(0).path("message").asText().contains(OCI_MANIFEST));
        assertEquals(404, send("HEAD", "/v2/neg/manifests/" + digest, null, "Accept", docker).statusCode());

        // an index by tag, for a client that reads only image manifests: its linux/amd64 manifest
        byte[] other = pushImage("neg", "arm", "arm");
        ObjectNode index = json.createObjectNode().put("schemaVersion", 2).put("mediaType", OCI_INDEX);
        index.putArray("manifests")
                .add(descriptor(OCI_MANIFEST, other).set("platform", json.createObjectNode()
                        .put("os", "linux").put("architecture", "arm64")))
                .add(descriptor(OCI_MANIFEST, manifest).set("platform", json.createObjectNode()
                        .put("os", "linux").put("architecture", "amd64")));
        byte[] indexBytes = json.writeValueAsBytes(index);
        assertEquals(201, putManifest("neg", "multi", OCI_INDEX, indexBytes).statusCode());
        HttpResponse<byte[]> asIndex = send("GET", "/v2/neg/manifests/multi", null, "Accept", OCI_INDEX + ", " + OCI_MANIFEST);
        assertEquals(OCI_INDEX, header(asIndex, "Content-Type"));
        assertEquals(digest(indexBytes), header(asIndex, "Docker-Content-Digest"));
        HttpResponse<byte[]> chosen = send("GET", "/v2/neg/manifests/multi", null, "Accept", OCI_MANIFEST);
        assertEquals(200, chosen.statusCode());
        assertEquals(OCI_MANIFEST, header(chosen, "Content-Type"));
        assertEquals(digest, header(chosen, "Docker-Content-Digest"));
        assertArrayEquals(manifest, chosen.body());
        HttpResponse<byte[]> byDigest = send("GET", "/v2/neg/manifests/" + digest(indexBytes), null, "Accept", OCI_MANIFEST);
        assertEquals(404, byDigest.statusCode(), "by digest, only the manifest with that digest may answer");
        assertEquals("MANIFEST_UNKNOWN", errorCode(byDigest));

        // the digest is the ETag: a client that has it gets 304
        HttpResponse<byte[]> tagged = send("GET", "/v2/neg/manifests/v1");
        assertEquals("\"" + digest + "\"", header(tagged, "ETag"));
        HttpResponse<byte[]> unchanged = send("GET", "/v2/neg/manifests/v1", null, "If-None-Match", "\"" + digest + "\"");
        assertEquals(304, unchanged.statusCode());
        assertEquals(0, unchanged.body().length);
        assertEquals(200, send("GET", "/v2/neg/manifests/v1", null, "If-None-Match", "\"" + digest(other) + "\"").statusCode());
    }

    @Test
    void badManifestsAreRefusedAndStoreNothing() throws Exception {
        byte[] config = "{}".getBytes(StandardCharsets.UTF_8);
        pushBlob("strict", config);
        ObjectNode tooLarge = json.createObjectNode().put("schemaVersion", 2).put("mediaType", OCI_MANIFEST);
        tooLarge.set("config", descriptor("application/vnd.oci.image.config.v1+json", config));
        tooLarge.putArray("layers");
        tooLarge.putObject("annotations").put("padding", "x".repeat(RegistryStorage.MAX_MANIFEST_BYTES));
        HttpResponse<byte[]> oversized = putManifest("strict", "big", OCI_MANIFEST, json.writeValueAsBytes(tooLarge));
        assertEquals(400, oversized.statusCode());
        assertEquals("SIZE_INVALID", errorCode(oversized));

        byte[] valid = imageManifest(config);
        HttpResponse<byte[]> unknownType = putManifest("strict", "odd", "application/vnd.example.thing+json", valid);
        assertEquals(400, unknownType.statusCode());
        assertEquals("MANIFEST_INVALID", errorCode(unknownType));
        HttpResponse<byte[]> mismatchedType = putManifest("strict", "odd", RegistryStorage.DOCKER_MANIFEST, valid);
        assertEquals("MANIFEST_INVALID", errorCode(mismatchedType));
        HttpResponse<byte[]> truncatedJson = putManifest("strict", "cut", OCI_MANIFEST, Arrays.copyOf(valid, valid.length / 2));
        assertEquals("MANIFEST_INVALID", errorCode(truncatedJson));

        assertEquals(List.of(), strings(body(send("GET", "/v2/strict/tags/list")).path("tags")));
        try (Stream<Path> revisions = Files.list(server.root().resolve("repositories/strict"))) {
            assertEquals(List.of("_layers"), revisions.map(p -> p.getFileName().toString()).toList(),
                    "no manifest revision was written");
        }
        try (Stream<Path> blobs = Files.list(server.root().resolve("blobs/sha256"))) {
            assertEquals(1, blobs.count(), "only the config blob");
        }
    }

    @Test
    void truncatedAndMisplacedUploadsStoreNothing() throws Exception {
        byte[] content = OciLayout.random(64 * 1024, 7);
        String digest = digest(content);

        // monolithic: the client says 64 KiB and hangs up after 1 KiB
        String answer = sendTruncated("POST", "/v2/cut/blobs/uploads/?digest=" + digest, content.length,
                Arrays.copyOf(content, 1024));
        assertEquals("HTTP/1.1 400 Bad Request", answer);
        assertEquals(404, send("HEAD", "/v2/cut/blobs/" + digest).statusCode());
        try (Stream<Path> uploads = Files.list(server.root().resolve("uploads"))) {
            assertEquals(0, uploads.count(), "the upload the client never learnt of is gone");
        }

        // chunked: a chunk cut short leaves the upload where it was, ready to resume
        String location = header(send("POST", "/v2/cut/blobs/uploads/"), "Location");
        assertEquals(202, send("PATCH", location, Arrays.copyOf(content, 100), "Content-Range", "0-99").statusCode());
        String cut = sendTruncated("PATCH", location, content.length - 100, Arrays.copyOfRange(content, 100, 2000));
        assertEquals("HTTP/1.1 400 Bad Request", cut);
        assertEquals("0-99", header(send("GET", location), "Range"));
        HttpResponse<byte[]> misplaced = send("PATCH", location, Arrays.copyOfRange(content, 200, 300), "Content-Range", "200-299");
        assertEquals(416, misplaced.statusCode());
        assertEquals("BLOB_UPLOAD_INVALID", errorCode(misplaced));
        assertEquals("0-99", header(misplaced, "Range"));
        HttpResponse<byte[]> early = send("PUT", location + "?digest=" + digest);
        assertEquals(400, early.statusCode(), "an incomplete upload does not match its digest");
        assertEquals("DIGEST_INVALID", errorCode(early));
        try (Stream<Path> blobs = Files.list(server.root().resolve("blobs/sha256"))) {
            assertEquals(0, blobs.count());
        }

        assertEquals(202, send("PATCH", location, Arrays.copyOfRange(content, 100, content.length),
                "Content-Range", "100-" + (content.length - 1)).statusCode());
        assertEquals(201, send("PUT", location + "?digest=" + digest).statusCode());
        assertArrayEquals(content, send("GET", "/v2/cut/blobs/" + digest).body());
    }

    /**
     * Sends a request that declares {@code declared} body bytes, sends {@code sent} and ends its side of
     * the connection; returns the status line, read once the server is done with the request.
     */
    private String sendTruncated(String method, String path, long declared, byte[] sent) throws Exception {
        URI uri = URI.create(base + path);
        try (java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
            java.io.OutputStream out = socket.getOutputStream();
            out.write((method + " " + uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery())
                    + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: "
                    + declared + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(sent);
            out.flush();
            socket.shutdownOutput();
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            return answer.isEmpty() ? "(closed)" : answer.lines().findFirst().orElseThrow();
        }
    }

    @Test
    void tagsListAndCatalogPaginate() throws Exception {
        byte[] manifest = pushImage("paged", "a", "p");
        for (String tag : List.of("b", "c", "d", "e")) {
            assertEquals(201, putManifest("paged", tag, OCI_MANIFEST, manifest).statusCode());
        }
        HttpResponse<byte[]> all = send("GET", "/v2/paged/tags/list");
        assertEquals("paged", body(all).path("name").asText());
        assertEquals(List.of("a", "b", "c", "d", "e"), strings(body(all).path("tags")));
        assertEquals(null, header(all, "Link"));

        List<String> seen = new ArrayList<>();
        String next = "/v2/paged/tags/list?n=2";
        int pages = 0;
        while (next != null) {
            HttpResponse<byte[]> page = send("GET", next);
            assertEquals(200, page.statusCode());
            seen.addAll(strings(body(page).path("tags")));
            String link = header(page, "Link");
            next = link == null ? null : link.substring(1, link.indexOf('>'));
            if (link != null) {
                assertTrue(link.endsWith("; rel=\"next\""), link);
            }
            pages++;
        }
        assertEquals(List.of("a", "b", "c", "d", "e"), seen);
        assertEquals(3, pages);
        assertEquals(List.of("d", "e"), strings(body(send("GET", "/v2/paged/tags/list?last=c")).path("tags")));

        HttpResponse<byte[]> unknownRepo = send("GET", "/v2/nothing/here/tags/list");
        assertEquals(404, unknownRepo.statusCode());
        assertEquals("NAME_UNKNOWN", errorCode(unknownRepo));

        pushBlob("alpha", "x".getBytes());
        pushBlob("zeta/nested", "y".getBytes());
        HttpResponse<byte[]> catalog = send("GET", "/v2/_catalog");
        assertEquals(List.of("alpha", "paged", "zeta/nested"), strings(body(catalog).path("repositories")));
        HttpResponse<byte[]> first = send("GET", "/v2/_catalog?n=2");
        assertEquals(List.of("alpha", "paged"), strings(body(first).path("repositories")));
        assertEquals("</v2/_catalog?last=paged&n=2>; rel=\"next\"", header(first, "Link"));
        HttpResponse<byte[]> second = send("GET", "/v2/_catalog?last=paged&n=2");
        assertEquals(List.of("zeta/nested"), strings(body(second).path("repositories")));
        assertEquals(null, header(second, "Link"));
    }

    @Test
    void v1SearchFindsCatalogRepositoriesByPartOfTheirName() throws Exception {
        pushBlob("team/busybox", "x".getBytes());
        pushBlob("busy/app", "y".getBytes());
        pushBlob("other", "z".getBytes());
        HttpResponse<byte[]> found = send("GET", "/v1/search?q=BUSY&n=25");
        assertEquals(200, found.statusCode());
        JsonNode answer = body(found);
        assertEquals(2, answer.path("num_results").asInt());
        assertEquals("BUSY", answer.path("query").asText());
        assertEquals("busy/app", answer.path("results").path(0).path("name").asText());
        assertEquals("team/busybox", answer.path("results").path(1).path("name").asText());
        assertEquals(0, answer.path("results").path(0).path("star_count").asInt(-1));
        assertFalse(answer.path("results").path(0).path("is_official").asBoolean(true));

        JsonNode second = body(send("GET", "/v1/search?q=busy&n=1&page=2"));
        assertEquals(List.of("team/busybox"), second.path("results").findValuesAsText("name"));
        assertEquals(2, second.path("num_pages").asInt());
        assertEquals(3, body(send("GET", "/v1/search")).path("num_results").asInt(), "no term: everything");
        HttpResponse<byte[]> bad = send("GET", "/v1/search?q=busy&n=zero");
        assertEquals(400, bad.statusCode());
        assertEquals("PAGINATION_NUMBER_INVALID", errorCode(bad));
    }

    @Test
    void crossRepositoryMount() throws Exception {
        byte[] content = "shared layer".getBytes(StandardCharsets.UTF_8);
        String digest = pushBlob("source", content);
        HttpResponse<byte[]> mounted = send("POST", "/v2/target/blobs/uploads/?mount=" + digest + "&from=source");
        assertEquals(201, mounted.statusCode());
        assertEquals("/v2/target/blobs/" + digest, header(mounted, "Location"));
        assertArrayEquals(content, send("GET", "/v2/target/blobs/" + digest).body());

        String missing = digest("never pushed".getBytes(StandardCharsets.UTF_8));
        HttpResponse<byte[]> fallback = send("POST", "/v2/target/blobs/uploads/?mount=" + missing + "&from=source");
        assertEquals(202, fallback.statusCode());
        assertTrue(header(fallback, "Location").startsWith("/v2/target/blobs/uploads/"));
        HttpResponse<byte[]> notInSource = send("POST", "/v2/third/blobs/uploads/?mount=" + digest + "&from=elsewhere");
        assertEquals(202, notInSource.statusCode(), "a repo that does not have the blob cannot lend it");
    }

    @Test
    void deleteManifestByDigestAndTag() throws Exception {
        byte[] manifest = pushImage("del", "one", "d");
        assertEquals(201, putManifest("del", "two", OCI_MANIFEST, manifest).statusCode());
        String digest = digest(manifest);

        assertEquals(202, send("DELETE", "/v2/del/manifests/two").statusCode(), "tag deletion (spec v1.1)");
        assertEquals(404, send("GET", "/v2/del/manifests/two").statusCode());
        assertEquals(200, send("GET", "/v2/del/manifests/one").statusCode());

        assertEquals(202, send("DELETE", "/v2/del/manifests/" + digest).statusCode());
        assertEquals(404, send("GET", "/v2/del/manifests/" + digest).statusCode());
        assertEquals(404, send("GET", "/v2/del/manifests/one").statusCode(), "tags of a deleted manifest go with it");
        HttpResponse<byte[]> again = send("DELETE", "/v2/del/manifests/" + digest);
        assertEquals(404, again.statusCode());
        assertEquals("MANIFEST_UNKNOWN", errorCode(again));
    }

    @Test
    void referrersListManifestsWithThatSubject() throws Exception {
        byte[] image = pushImage("ref", "latest", "r");
        byte[] emptyConfig = "{}".getBytes(StandardCharsets.UTF_8);
        byte[] signature = "signature".getBytes(StandardCharsets.UTF_8);
        pushBlob("ref", emptyConfig);
        pushBlob("ref", signature);
        ObjectNode artifact = json.createObjectNode().put("schemaVersion", 2).put("mediaType", OCI_MANIFEST)
                .put("artifactType", "application/vnd.example.signature");
        artifact.set("config", descriptor("application/vnd.oci.empty.v1+json", emptyConfig));
        artifact.putArray("layers").add(descriptor("application/octet-stream", signature));
        artifact.set("subject", descriptor(OCI_MANIFEST, image));
        artifact.putObject("annotations").put("org.example.kind", "sig");
        byte[] artifactBytes = json.writeValueAsBytes(artifact);
        HttpResponse<byte[]> put = putManifest("ref", digest(artifactBytes), OCI_MANIFEST, artifactBytes);
        assertEquals(201, put.statusCode());
        assertEquals(digest(image), header(put, "OCI-Subject"));

        HttpResponse<byte[]> referrers = send("GET", "/v2/ref/referrers/" + digest(image));
        assertEquals(200, referrers.statusCode());
        assertEquals(OCI_INDEX, header(referrers, "Content-Type"));
        JsonNode manifests = body(referrers).path("manifests");
        assertEquals(1, manifests.size());
        assertEquals(digest(artifactBytes), manifests.path(0).path("digest").asText());
        assertEquals("application/vnd.example.signature", manifests.path(0).path("artifactType").asText());
        assertEquals("sig", manifests.path(0).path("annotations").path("org.example.kind").asText());

        HttpResponse<byte[]> filtered = send("GET", "/v2/ref/referrers/" + digest(image) + "?artifactType=application/other");
        assertEquals(0, body(filtered).path("manifests").size());
        assertEquals("artifactType", header(filtered, "OCI-Filters-Applied"));
        assertEquals(0, body(send("GET", "/v2/ref/referrers/" + digest(artifactBytes))).path("manifests").size());
    }

    @Test
    void garbageCollectionRemovesOnlyUnreferencedBlobs() throws Exception {
        byte[] manifest = pushImage("gc", "keep", "k");
        JsonNode parsed = json.readTree(manifest);
        String config = parsed.path("config").path("digest").asText();
        String layer = parsed.path("layers").path(0).path("digest").asText();
        String orphan = pushBlob("gc", "orphan".getBytes(StandardCharsets.UTF_8));

        io.berth.spi.registry.LocalRegistry.GarbageCollection result = server.collectGarbage();
        assertEquals(List.of(orphan), result.deletedBlobs());
        assertEquals("orphan".length(), result.freedBytes());
        assertEquals(404, send("HEAD", "/v2/gc/blobs/" + orphan).statusCode());
        assertEquals(200, send("HEAD", "/v2/gc/blobs/" + config).statusCode());
        assertEquals(200, send("HEAD", "/v2/gc/blobs/" + layer).statusCode());
        assertEquals(200, send("GET", "/v2/gc/manifests/keep").statusCode());

        // once the manifest is gone, its blobs are garbage too
        assertEquals(202, send("DELETE", "/v2/gc/manifests/" + digest(manifest)).statusCode());
        List<String> second = server.collectGarbage().deletedBlobs();
        assertEquals(3, second.size());
        assertTrue(second.containsAll(List.of(config, layer, digest(manifest))));
        assertEquals(404, send("HEAD", "/v2/gc/blobs/" + layer).statusCode());
        assertEquals(List.of(), server.collectGarbage().deletedBlobs());
    }

    @Test
    void traversalAttemptsAreRejected() throws Exception {
        Path outside = temp.resolve("outside");
        Files.createDirectories(outside);
        List<String> attempts = List.of(
                "/v2/../x/blobs/uploads/",
                "/v2/..%2Fx/blobs/uploads/",
                "/v2/a/..%2F..%2Foutside/blobs/uploads/",
                "/v2/_x/blobs/uploads/",
                "/v2/A/blobs/uploads/",
                "/v2/x/blobs/sha256:..%2F..%2F",
                "/v2/x/blobs/sha256:../../outside");
        for (String attempt : attempts) {
            HttpResponse<byte[]> response = send("POST", attempt);
            assertNotEquals(202, response.statusCode(), attempt);
            assertTrue(response.statusCode() >= 400, attempt + " -> " + response.statusCode());
        }
        HttpResponse<byte[]> badName = send("GET", "/v2/Bad..Name/tags/list");
        assertEquals(400, badName.statusCode());
        assertEquals("NAME_INVALID", errorCode(badName));

        HttpResponse<byte[]> badDigest = send("GET", "/v2/x/blobs/sha256:..%2F..%2Fetc");
        assertTrue(badDigest.statusCode() == 400, "got " + badDigest.statusCode());
        HttpResponse<byte[]> shortDigest = send("HEAD", "/v2/x/blobs/sha256:abc");
        assertEquals(400, shortDigest.statusCode());
        HttpResponse<byte[]> digestInQuery = send("POST", "/v2/x/blobs/uploads/?digest=sha256:../../outside/evil", "x".getBytes());
        assertEquals(400, digestInQuery.statusCode());
        assertEquals("DIGEST_INVALID", errorCode(digestInQuery));
        HttpResponse<byte[]> mountFrom = send("POST", "/v2/x/blobs/uploads/?mount=" + digest("x".getBytes()) + "&from=../outside");
        assertEquals("NAME_INVALID", errorCode(mountFrom));
        HttpResponse<byte[]> badUpload = send("PATCH", "/v2/x/blobs/uploads/..%2F..%2Foutside", "x".getBytes());
        assertTrue(badUpload.statusCode() >= 400);

        try (Stream<Path> files = Files.list(outside)) {
            assertEquals(0, files.count());
        }
        try (Stream<Path> files = Files.list(temp)) {
            assertEquals(List.of("outside", "registry"), files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void anUploadResumesAcrossARestartAndIsStillVerified() throws Exception {
        // The digest is computed while chunks arrive; after a restart that state is gone and the blob is read.
        byte[] content = "0123456789abcdef".getBytes(StandardCharsets.UTF_8);
        String location = header(send("POST", "/v2/resumed/blobs/uploads/"), "Location");
        assertEquals(202, send("PATCH", location, Arrays.copyOfRange(content, 0, 10),
                "Content-Range", "0-9", "Content-Type", "application/octet-stream").statusCode());
        server.stop();
        server = new RegistryServer(temp.resolve("registry"), "127.0.0.1", 0);
        server.start();
        base = "http://127.0.0.1:" + server.port();
        assertEquals(202, send("PATCH", location, Arrays.copyOfRange(content, 10, 16),
                "Content-Range", "10-15", "Content-Type", "application/octet-stream").statusCode());
        HttpResponse<byte[]> wrong = send("PUT", location + "?digest=" + digest("something else".getBytes(StandardCharsets.UTF_8)));
        assertEquals(400, wrong.statusCode());
        assertTrue(new String(wrong.body(), StandardCharsets.UTF_8).contains("DIGEST_INVALID"));

        String again = header(send("POST", "/v2/resumed/blobs/uploads/"), "Location");
        assertEquals(202, send("PATCH", again, Arrays.copyOfRange(content, 0, 10),
                "Content-Range", "0-9", "Content-Type", "application/octet-stream").statusCode());
        server.stop();
        server = new RegistryServer(temp.resolve("registry"), "127.0.0.1", 0);
        server.start();
        base = "http://127.0.0.1:" + server.port();
        HttpResponse<byte[]> done = send("PUT", again + "?digest=" + digest(content), Arrays.copyOfRange(content, 10, 16),
                "Content-Type", "application/octet-stream");
        assertEquals(201, done.statusCode());
        assertArrayEquals(content, send("GET", "/v2/resumed/blobs/" + digest(content)).body());
    }

    @Test
    void storageSurvivesRestart() throws Exception {
        byte[] manifest = pushImage("persist", "v1", "s");
        server.stop();
        server = new RegistryServer(temp.resolve("registry"), "127.0.0.1", 0);
        server.start();
        base = "http://127.0.0.1:" + server.port();
        assertArrayEquals(manifest, send("GET", "/v2/persist/manifests/v1").body());
        try (Stream<Path> files = Files.walk(server.root())) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().startsWith(DiskFiles.TEMP_PREFIX)));
        }
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(node -> values.add(node.asText()));
        return values;
    }
}
