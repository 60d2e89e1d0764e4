package io.berth.registry.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.spi.images.ContentStore;
import io.berth.spi.images.Reference;
import io.berth.spi.images.RegistryClient;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * An OCI distribution client over the JDK's HttpClient: pulls manifests and
 * blobs into a {@link ContentStore} and pushes them from it, with Bearer-token
 * and Basic authentication, Docker Hub mirrors and insecure (plain http)
 * registries.
 */
public final class HttpRegistryClient implements RegistryClient, AutoCloseable {

    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    public static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    private static final String ACCEPT = String.join(", ", OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_LIST);
    private static final int MAX_MANIFEST = 4 * 1024 * 1024;
    private static final int PARALLEL = 3;
    private static final long PROGRESS_INTERVAL_NANOS = 100_000_000L;
    private static final Pattern PARAM = Pattern.compile("([A-Za-z_]+)\\s*=\\s*(?:\"([^\"]*)\"|([^,\\s]*))");
    private static final Pattern RANGE = Pattern.compile("^(?:bytes[= ])?(\\d+)-(\\d+)$");

    /**
     * How the client connects.
     *
     * @param mirrors            base URLs tried first, in order, for pulls from docker.io
     * @param insecureRegistries hosts (with port if any) spoken to over plain http; localhost and
     *                           127.0.0.1 always are
     * @param connectTimeout     TCP connect timeout
     * @param requestTimeout     timeout for a response's headers, and for a blob body that stops arriving
     *                           (a whole body may take longer)
     * @param chunkSize          bytes per PATCH of a chunked blob upload
     * @param dockerHubUrl       where docker.io really is (https://registry-1.docker.io)
     */
    public record Settings(List<String> mirrors, List<String> insecureRegistries, Duration connectTimeout,
                           Duration requestTimeout, int chunkSize, String dockerHubUrl) {
        public static final String DOCKER_HUB_URL = "https://registry-1.docker.io";

        public Settings {
            mirrors = mirrors == null ? List.of() : mirrors.stream().map(String::trim).filter(s -> !s.isEmpty())
                    .map(HttpRegistryClient::stripSlash).toList();
            insecureRegistries = insecureRegistries == null ? List.of()
                    : insecureRegistries.stream().map(String::trim).filter(s -> !s.isEmpty()).toList();
            connectTimeout = connectTimeout == null ? Duration.ofSeconds(30) : connectTimeout;
            requestTimeout = requestTimeout == null ? Duration.ofMinutes(5) : requestTimeout;
            chunkSize = chunkSize <= 0 ? 8 * 1024 * 1024 : chunkSize;
            dockerHubUrl = dockerHubUrl == null || dockerHubUrl.isBlank() ? DOCKER_HUB_URL : stripSlash(dockerHubUrl);
        }

        public Settings(List<String> mirrors, List<String> insecureRegistries) {
            this(mirrors, insecureRegistries, null, null, 0, null);
        }

        public static Settings defaults() {
            return new Settings(List.of(), List.of());
        }

        public Settings withChunkSize(int size) {
            return new Settings(mirrors, insecureRegistries, connectTimeout, requestTimeout, size, dockerHubUrl);
        }

        public Settings withDockerHubUrl(String url) {
            return new Settings(mirrors, insecureRegistries, connectTimeout, requestTimeout, chunkSize, url);
        }
    }

    private final ContentStore store;
    private final Settings settings;
    // Built on first use (guarded by this): building one starts its selector thread and loads the JDK's TLS and
    // trust store, ~100-150 ms of the daemon's start when done at activation.
    private HttpClient http;
    /** For https to insecure registries: any certificate is accepted, as Docker does for them. */
    private HttpClient unverifiedHttps;
    /** Insecure registry -> the base URL its /v2/ answered on (https or http), once asked. */
    private final Map<String, String> insecureBases = new ConcurrentHashMap<>();
    private final ObjectMapper json = new ObjectMapper();
    /** "base scope" -> Authorization header value. */
    private final Map<String, String> tokens = new ConcurrentHashMap<>();
    /** base -> digest -> a repository the blob was pushed to (or seen in). */
    private final Map<String, Map<String, String>> pushed = new ConcurrentHashMap<>();

    public HttpRegistryClient(ContentStore store, Settings settings) {
        this.store = store;
        this.settings = settings == null ? Settings.defaults() : settings;
    }

    private synchronized HttpClient httpClient(boolean unverified) {
        if (unverified) {
            if (unverifiedHttps == null) {
                unverifiedHttps = newClient().sslContext(UnverifiedTls.context()).build();
            }
            return unverifiedHttps;
        }
        if (http == null) {
            http = newClient().build();
        }
        return http;
    }

    private HttpClient.Builder newClient() {
        return HttpClient.newBuilder().connectTimeout(settings.connectTimeout()).followRedirects(HttpClient.Redirect.NEVER);
    }

    public Settings settings() {
        return settings;
    }

    @Override
    public void close() {
        tokens.clear();
    }

    // ------------------------------------------------------------------ pull

    @Override
    public Pulled pull(Reference reference, String platform, Credentials credentials, Consumer<Progress> progress)
            throws IOException {
        return pull(reference, platform, credentials, progress, PullListener.NONE);
    }

    /**
     * Tries the endpoints in order (mirrors first for docker.io). As dockerd does, a failure makes the pull move on
     * to the next endpoint only until the image is chosen: once layers are on their way (and the listener may be
     * unpacking them), a failure ends the pull.
     */
    @Override
    public Pulled pull(Reference reference, String platform, Credentials credentials, Consumer<Progress> progress,
                       PullListener listener) throws IOException {
        Consumer<Progress> events = progress == null ? p -> { } : progress;
        Credentials creds = credentials == null ? Credentials.NONE : credentials;
        PullListener told = listener == null ? PullListener.NONE : listener;
        boolean[] resolved = {false};
        PullListener tracked = new PullListener() {
            @Override
            public void resolved(Pulled image) throws IOException {
                resolved[0] = true;
                told.resolved(image);
            }

            @Override
            public void layerStored(int index) throws IOException {
                told.layerStored(index);
            }

            @Override
            public boolean unpacksInAnyOrder() {
                return told.unpacksInAnyOrder();
            }
        };
        List<String> bases = pullEndpoints(reference.domain());
        IOException failure = null;
        for (int i = 0; i < bases.size(); i++) {
            try {
                return pullFrom(bases.get(i), reference, platform, creds, events, tracked);
            } catch (IOException e) {
                if (i == bases.size() - 1 || resolved[0]) {
                    if (failure != null) {
                        e.addSuppressed(failure);
                    }
                    throw e;
                }
                failure = e; // a mirror failed: try the next endpoint
            }
        }
        throw new IOException("no endpoint for " + reference);
    }

    private Pulled pullFrom(String base, Reference reference, String platform, Credentials creds,
                            Consumer<Progress> events, PullListener listener) throws IOException {
        Session s = new Session(base, reference.path(), "repository:" + reference.path() + ":pull", creds);
        // What this pull adds to the content store; a pull that fails takes it out again, so nothing is left.
        List<String> written = java.util.Collections.synchronizedList(new ArrayList<>());
        try {
            return pullInto(s, reference, platform, events, listener, written);
        } catch (IOException | RuntimeException e) {
            for (String digest : written) {
                try {
                    store.delete(digest);
                } catch (IOException | RuntimeException again) {
                    e.addSuppressed(again);
                }
            }
            throw e;
        }
    }

    private Pulled pullInto(Session s, Reference reference, String platform, Consumer<Progress> events,
                            PullListener listener, List<String> written) throws IOException {
        String ref = reference.digest() != null ? reference.digest() : reference.tag();
        Fetched top = fetchManifest(s, reference, ref, reference.digest());
        String indexDigest = null;
        byte[] index = null;
        Fetched manifest = top;
        if (isIndex(top.mediaType)) {
            indexDigest = top.digest;
            index = top.bytes;
            String chosen = selectPlatform(top.document, platform == null ? hostPlatform() : platform);
            manifest = fetchManifest(s, reference, chosen, chosen);
            if (isIndex(manifest.mediaType)) {
                throw new IOException("manifest " + chosen + " of " + reference + " is an index, not an image manifest");
            }
        }
        JsonNode doc = manifest.document;
        Blob config = blob(doc.path("config"));
        if (config.digest() == null) {
            throw new IOException("malformed manifest " + manifest.digest + " of " + reference + ": it names no config");
        }
        if (!doc.path("layers").isArray()) {
            throw new IOException("malformed manifest " + manifest.ref + " of " + reference + ": it has no layers");
        }
        List<Blob> layers = new ArrayList<>();
        for (JsonNode layer : doc.path("layers")) {
            Blob blob = blob(layer);
            if (blob.digest() == null) {
                throw new IOException("malformed manifest " + manifest.ref + " of " + reference
                        + ": a layer has no digest");
            }
            layers.add(blob);
        }
        if (!store.exists(config.digest())) {
            download(s, config, null, written);
        }
        Pulled pulled = new Pulled(reference, manifest.digest, indexDigest, manifest.bytes, config.digest(),
                List.copyOf(layers));
        listener.resolved(pulled);
        // Blob digest -> the indexes of the layers it is (an image may hold the same layer twice), in fetch order.
        Map<String, List<Integer>> toFetch = new LinkedHashMap<>();
        List<Integer> present = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            String digest = layers.get(i).digest();
            if (toFetch.containsKey(digest) || !store.exists(digest)) {
                toFetch.computeIfAbsent(digest, d -> {
                    events.accept(new Progress(shortId(d), "Pulling fs layer", -1, -1));
                    return new ArrayList<>();
                }).add(i);
            } else {
                events.accept(new Progress(shortId(digest), "Already exists", -1, -1));
                present.add(i);
            }
        }
        for (int i : present) {
            listener.layerStored(i);
        }
        ExecutorService pool = Executors.newFixedThreadPool(PARALLEL, daemon("berth-pull"));
        try {
            List<Future<?>> futures = new ArrayList<>();
            List<Map.Entry<String, List<Integer>>> order = new ArrayList<>(toFetch.entrySet());
            if (listener.unpacksInAnyOrder()) {
                order.sort(Comparator.comparingLong(fetch -> layers.get(fetch.getValue().get(0)).size()));
            }
            for (Map.Entry<String, List<Integer>> fetch : order) {
                Blob layer = layers.get(fetch.getValue().get(0));
                futures.add(pool.submit(() -> {
                    download(s, layer, events, written);
                    // "Pull complete" follows from the image store once the layer is unpacked, as in Docker.
                    events.accept(new Progress(shortId(layer.digest()), "Download complete", -1, -1));
                    for (int layerIndex : fetch.getValue()) {
                        listener.layerStored(layerIndex);
                    }
                    return null;
                }));
            }
            await(futures);
        } finally {
            stop(pool);
        }
        storeBytes(manifest.bytes, manifest.digest, written);
        if (index != null) {
            storeBytes(index, indexDigest, written);
        }
        events.accept(new Progress(ref, "Digest: " + (indexDigest != null ? indexDigest : manifest.digest), -1, -1));
        return pulled;
    }

    /** A manifest or index as fetched: its bytes, their digest, its media type and its parsed JSON. */
    private record Fetched(String ref, byte[] bytes, String digest, String mediaType, JsonNode document) {
    }

    private Fetched fetchManifest(Session s, Reference reference, String ref, String expected) throws IOException {
        HttpRequest.Builder request = HttpRequest.newBuilder(s.uri("/manifests/" + ref)).GET()
                .header("Accept", ACCEPT);
        HttpResponse<InputStream> response = s.send(request);
        byte[] bytes;
        try (InputStream in = response.body()) {
            if (response.statusCode() == 404) {
                throw new IOException("manifest unknown: " + reference + detail(in));
            }
            if (response.statusCode() != 200) {
                throw failure("fetching manifest " + ref + " of " + reference, response.statusCode(), in);
            }
            bytes = in.readNBytes(MAX_MANIFEST + 1);
        }
        if (bytes.length > MAX_MANIFEST) {
            throw new IOException("manifest " + ref + " of " + reference + " is larger than " + MAX_MANIFEST + " bytes");
        }
        String digest = sha256(bytes);
        if (expected != null && !expected.equals(digest)) {
            throw new IOException("manifest digest mismatch for " + reference + ": expected " + expected + ", got " + digest);
        }
        String header = response.headers().firstValue("Docker-Content-Digest").orElse(null);
        if (header != null && header.startsWith("sha256:") && !header.equals(digest)) {
            throw new IOException("manifest digest mismatch for " + reference + ": registry says " + header
                    + ", content is " + digest);
        }
        JsonNode document;
        try {
            document = json.readTree(bytes);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException("malformed manifest " + ref + " of " + reference + ": not JSON ("
                    + e.getOriginalMessage() + ")");
        }
        if (document == null || !document.isObject()) {
            throw new IOException("malformed manifest " + ref + " of " + reference + ": not a JSON object");
        }
        String mediaType = document.path("mediaType").asText(null);
        if (mediaType == null || mediaType.isEmpty()) {
            mediaType = response.headers().firstValue("Content-Type").map(t -> t.split(";")[0].trim()).orElse(OCI_MANIFEST);
        }
        if (isIndex(mediaType) && !document.path("manifests").isArray()) {
            throw new IOException("malformed manifest " + ref + " of " + reference + ": an index without manifests");
        }
        return new Fetched(ref, bytes, digest, mediaType, document);
    }

    /** Fetches a blob into the content store (verified there against its digest and size); notes it in {@code written}. */
    private void download(Session s, Blob blob, Consumer<Progress> events, List<String> written) throws IOException {
        URI uri = s.uri("/blobs/" + blob.digest());
        HttpResponse<InputStream> response = s.send(HttpRequest.newBuilder(uri).GET());
        for (int redirects = 0; isRedirect(response.statusCode()); redirects++) {
            String location = response.headers().firstValue("Location").orElse(null);
            response.body().close();
            if (location == null || redirects >= 10) {
                throw new IOException("bad redirect fetching blob " + blob.digest());
            }
            uri = uri.resolve(location);
            // a redirect leaves the registry (e.g. to a CDN): no credentials go along
            response = send(HttpRequest.newBuilder(uri).GET().timeout(settings.requestTimeout()));
        }
        try (InputStream in = response.body()) {
            if (response.statusCode() != 200) {
                throw failure("fetching blob " + blob.digest(), response.statusCode(), in);
            }
            long total = blob.size() >= 0 ? blob.size()
                    : response.headers().firstValueAsLong("Content-Length").orElse(-1);
            ProgressStream counted = new ProgressStream(in, shortId(blob.digest()), total, events);
            StallWatch watch = new StallWatch(counted, settings.requestTimeout());
            try {
                store.write(counted, blob.digest(), blob.size());
            } catch (IOException e) {
                String why = watch.stalled() ? "no data for " + settings.requestTimeout().toSeconds() + " s"
                        : e.getMessage();
                throw new IOException("fetching blob " + blob.digest() + " failed after " + counted.current + " of "
                        + (total >= 0 ? total : "?") + " bytes: " + why, e);
            } finally {
                watch.stop();
            }
            written.add(blob.digest());
        }
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    /** Picks the manifest for {@code platform} ({@code os/arch[/variant]}) from an index. */
    static String selectPlatform(JsonNode index, String platform) throws IOException {
        String[] want = platform.toLowerCase(Locale.ROOT).split("/");
        if (want.length < 2 || want.length > 3) {
            throw new IOException("invalid platform \"" + platform + "\": expected os/arch[/variant]");
        }
        String os = want[0];
        String arch = normaliseArch(want[1]);
        String variant = want.length == 3 ? want[2] : null;
        if (arch.equals("arm64") && "v8".equals(variant)) {
            variant = null;
        }
        String best = null;
        int bestScore = -1;
        for (JsonNode m : index.path("manifests")) {
            JsonNode p = m.path("platform");
            if (!os.equals(p.path("os").asText()) || !arch.equals(normaliseArch(p.path("architecture").asText()))) {
                continue;
            }
            String v = p.path("variant").asText(null);
            if (arch.equals("arm64") && "v8".equals(v)) {
                v = null;
            }
            int score;
            if (variant != null) {
                if (!variant.equals(v)) {
                    continue;
                }
                score = 2;
            } else {
                score = v == null ? 2 : (arch.equals("arm") && v.equals("v7") ? 1 : 0);
            }
            if (score > bestScore) {
                bestScore = score;
                best = m.path("digest").asText(null);
            }
        }
        if (best == null) {
            throw new IOException("no matching manifest for " + platform + " in the manifest list entries");
        }
        return best;
    }

    static String hostPlatform() {
        return "linux/" + normaliseArch(System.getProperty("os.arch", "amd64"));
    }

    private static String normaliseArch(String arch) {
        return switch (arch.toLowerCase(Locale.ROOT)) {
            case "x86_64", "x86-64", "amd64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            case "i386", "i686", "x86", "386" -> "386";
            case "armhf", "armel", "arm" -> "arm";
            default -> arch.toLowerCase(Locale.ROOT);
        };
    }

    // ------------------------------------------------------------------ push

    @Override
    public String push(Reference reference, byte[] manifest, String mediaType, Credentials credentials,
                       Consumer<Progress> progress) throws IOException {
        Consumer<Progress> events = progress == null ? p -> { } : progress;
        Credentials creds = credentials == null ? Credentials.NONE : credentials;
        String base = endpoint(reference.domain());
        Session s = new Session(base, reference.path(), "repository:" + reference.path() + ":pull,push", creds);
        String tag = reference.tag() != null ? reference.tag() : reference.digest();
        return pushManifest(s, manifest, mediaType, tag, events);
    }

    private String pushManifest(Session s, byte[] manifest, String mediaType, String tag, Consumer<Progress> events)
            throws IOException {
        JsonNode doc = json.readTree(manifest);
        if (mediaType == null || mediaType.isBlank()) {
            mediaType = doc.path("mediaType").asText(OCI_MANIFEST);
        }
        String digest = sha256(manifest);
        if (isIndex(mediaType)) {
            for (JsonNode child : doc.path("manifests")) {
                String childDigest = child.path("digest").asText();
                byte[] bytes;
                try (InputStream in = store.read(childDigest)) {
                    bytes = in.readAllBytes();
                }
                pushManifest(s, bytes, child.path("mediaType").asText(null), childDigest, events);
            }
        } else {
            List<Blob> blobs = new ArrayList<>();
            blobs.add(blob(doc.path("config")));
            for (JsonNode layer : doc.path("layers")) {
                blobs.add(blob(layer));
            }
            Map<String, Blob> unique = new LinkedHashMap<>();
            for (Blob b : blobs) {
                if (b.digest() == null) {
                    throw new IOException("manifest " + digest + " names a blob without a digest");
                }
                unique.putIfAbsent(b.digest(), b);
            }
            for (Blob b : unique.values()) {
                events.accept(new Progress(shortId(b.digest()), "Preparing", -1, -1));
            }
            ExecutorService pool = Executors.newFixedThreadPool(PARALLEL, daemon("berth-push"));
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (Blob b : unique.values()) {
                    futures.add(pool.submit(() -> {
                        pushBlob(s, b, events);
                        return null;
                    }));
                }
                await(futures);
            } finally {
                stop(pool);
            }
        }
        HttpRequest.Builder put = HttpRequest.newBuilder(s.uri("/manifests/" + tag))
                .PUT(BodyPublishers.ofByteArray(manifest)).header("Content-Type", mediaType);
        HttpResponse<InputStream> response = s.send(put);
        try (InputStream in = response.body()) {
            if (response.statusCode() != 201 && response.statusCode() != 200) {
                throw failure("pushing manifest " + tag, response.statusCode(), in);
            }
        }
        String returned = response.headers().firstValue("Docker-Content-Digest").orElse(digest);
        if (!returned.equals(digest)) {
            throw new IOException("registry stored manifest as " + returned + " but its content is " + digest);
        }
        events.accept(new Progress(tag, tag + ": digest: " + digest + " size: " + manifest.length, -1, -1));
        return digest;
    }

    private void pushBlob(Session s, Blob blob, Consumer<Progress> events) throws IOException {
        String id = shortId(blob.digest());
        long size = store.size(blob.digest());
        if (size < 0) {
            throw new IOException("blob " + blob.digest() + " is not in the content store");
        }
        Map<String, String> seen = pushed.computeIfAbsent(s.base, k -> new ConcurrentHashMap<>());
        HttpResponse<InputStream> head = s.send(HttpRequest.newBuilder(s.uri("/blobs/" + blob.digest()))
                .method("HEAD", BodyPublishers.noBody()));
        head.body().close();
        if (head.statusCode() == 200) {
            seen.put(blob.digest(), s.repository);
            events.accept(new Progress(id, "Layer already exists", -1, -1));
            return;
        }
        if (head.statusCode() != 404) {
            throw new IOException("checking blob " + blob.digest() + ": HTTP " + head.statusCode());
        }
        String location = null;
        String from = seen.get(blob.digest());
        if (from != null && !from.equals(s.repository)) {
            HttpResponse<InputStream> mount = s.send(HttpRequest.newBuilder(s.uri("/blobs/uploads/?mount="
                    + enc(blob.digest()) + "&from=" + enc(from))).POST(BodyPublishers.noBody()));
            try (InputStream in = mount.body()) {
                if (mount.statusCode() == 201) {
                    seen.put(blob.digest(), s.repository);
                    events.accept(new Progress(id, "Mounted from " + from, -1, -1));
                    return;
                }
                if (mount.statusCode() == 202) {
                    location = mount.headers().firstValue("Location").orElse(null);
                } else {
                    in.readAllBytes(); // mount refused: upload instead
                }
            }
        }
        if (location == null) {
            HttpResponse<InputStream> start = s.send(HttpRequest.newBuilder(s.uri("/blobs/uploads/"))
                    .POST(BodyPublishers.noBody()));
            try (InputStream in = start.body()) {
                if (start.statusCode() != 202) {
                    throw failure("starting upload of " + blob.digest(), start.statusCode(), in);
                }
            }
            location = start.headers().firstValue("Location")
                    .orElseThrow(() -> new IOException("registry gave no upload location for " + blob.digest()));
        }
        URI upload = s.uri("/").resolve(location);
        upload = uploadChunks(s, blob.digest(), size, upload, id, events);
        String query = upload.getRawQuery();
        URI finish = URI.create(upload.toString() + (query == null ? "?" : "&") + "digest=" + enc(blob.digest()));
        HttpResponse<InputStream> put = s.send(HttpRequest.newBuilder(finish).PUT(BodyPublishers.noBody())
                .header("Content-Type", "application/octet-stream"));
        try (InputStream in = put.body()) {
            if (put.statusCode() != 201 && put.statusCode() != 204) {
                throw failure("completing upload of " + blob.digest(), put.statusCode(), in);
            }
        }
        seen.put(blob.digest(), s.repository);
        events.accept(new Progress(id, "Pushed", size, size));
    }

    /** PATCHes the blob in chunks; on a 416 asks the registry how much it has and resumes from there. */
    private URI uploadChunks(Session s, String digest, long size, URI upload, String id, Consumer<Progress> events)
            throws IOException {
        int chunk = settings.chunkSize();
        byte[] buffer = new byte[(int) Math.min(chunk, Math.max(size, 1))];
        long offset = 0;
        int resumes = 0;
        long lastEvent = 0;
        InputStream in = store.read(digest);
        try {
            while (offset < size) {
                int n = in.readNBytes(buffer, 0, (int) Math.min(buffer.length, size - offset));
                if (n <= 0) {
                    throw new IOException("blob " + digest + " ended early at " + offset + " of " + size + " bytes");
                }
                HttpResponse<InputStream> patch = s.send(HttpRequest.newBuilder(upload)
                        .method("PATCH", BodyPublishers.ofByteArray(buffer, 0, n))
                        .header("Content-Type", "application/octet-stream")
                        .header("Content-Range", offset + "-" + (offset + n - 1)));
                final long sent = offset + n;
                long accepted;
                try (InputStream body = patch.body()) {
                    if (patch.statusCode() == 416) {
                        body.readAllBytes();
                        if (++resumes > 5) {
                            throw new IOException("upload of " + digest + " keeps failing with 416 Range Not Satisfiable");
                        }
                        accepted = uploadStatus(s, upload);
                    } else if (patch.statusCode() == 202 || patch.statusCode() == 204) {
                        upload = patch.headers().firstValue("Location").map(upload::resolve).orElse(upload);
                        accepted = patch.headers().firstValue("Range").map(r -> rangeEnd(r, sent == 1))
                                .filter(a -> a >= 0).orElse(sent);
                    } else {
                        throw failure("uploading blob " + digest, patch.statusCode(), body);
                    }
                }
                if (accepted < 0 || accepted > size) {
                    throw new IOException("registry reports an impossible upload offset " + accepted + " for " + digest);
                }
                if (accepted != sent) {
                    // the registry has a different amount than we sent: carry on from what it has
                    in.close();
                    in = store.read(digest);
                    in.skipNBytes(accepted);
                }
                offset = accepted;
                long now = System.nanoTime();
                if (now - lastEvent > PROGRESS_INTERVAL_NANOS || offset >= size) {
                    lastEvent = now;
                    events.accept(new Progress(id, "Pushing", offset, size));
                }
            }
        } finally {
            in.close();
        }
        return upload;
    }

    private long uploadStatus(Session s, URI upload) throws IOException {
        HttpResponse<InputStream> status = s.send(HttpRequest.newBuilder(upload).GET());
        try (InputStream body = status.body()) {
            if (status.statusCode() != 204 && status.statusCode() != 200) {
                throw failure("asking upload status", status.statusCode(), body);
            }
        }
        return status.headers().firstValue("Range").map(r -> rangeEnd(r, false))
                .orElseThrow(() -> new IOException("registry gave no Range for upload " + upload));
    }

    /**
     * Bytes a registry holds from its Range header ("0-<last>"); distribution sends "0-0" for an empty
     * upload too, so that means one byte only when one byte is what we expect.
     */
    private static long rangeEnd(String range, boolean zeroMeansOne) {
        Matcher m = RANGE.matcher(range.trim());
        if (!m.matches()) {
            return -1;
        }
        long end = Long.parseLong(m.group(2));
        return end == 0 && !zeroMeansOne ? 0 : end + 1;
    }

    // ------------------------------------------------------------------ search

    /** Where Docker Hub's v1 search is (not registry-1, which has no /v1/). */
    static final String DOCKER_HUB_INDEX = "https://index.docker.io";

    /**
     * Docker's v1 search: {@code GET /v1/search?q=WORDS&n=LIMIT} at the registry the term names (as dockerd's
     * splitReposSearchTerm reads it), with Basic credentials when the registry asks for them.
     */
    @Override
    public List<SearchResult> search(String term, int limit, Credentials credentials) throws IOException {
        if (limit < 1 || limit > 100) {
            throw new IllegalArgumentException("limit " + limit + " is outside the range of [1, 100]");
        }
        String[] parts = term.split("/", 2);
        boolean namesRegistry = parts.length == 2
                && (parts[0].contains(".") || parts[0].contains(":") || parts[0].equals("localhost"));
        String domain = namesRegistry ? parts[0] : Reference.DOCKER_HUB;
        String words = namesRegistry ? parts[1] : term.replaceFirst("^library/", "");
        String base = domain.equals(Reference.DOCKER_HUB) ? DOCKER_HUB_INDEX : endpoint(domain);
        URI uri = URI.create(base + "/v1/search?q=" + enc(words) + "&n=" + limit);
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).GET().header("Accept", "application/json")
                .timeout(settings.requestTimeout());
        HttpResponse<InputStream> response = send(request.copy());
        if (response.statusCode() == 401 && credentials != null && credentials.username() != null
                && credentials.password() != null) {
            response.body().close();
            response = send(request.copy().header("Authorization", basic(credentials)));
        }
        try (InputStream in = response.body()) {
            if (response.statusCode() != 200) {
                throw failure("searching " + domain + " for " + words, response.statusCode(), in);
            }
            JsonNode results = json.readTree(in.readNBytes(MAX_MANIFEST)).path("results");
            List<SearchResult> found = new ArrayList<>();
            for (JsonNode r : results) {
                found.add(new SearchResult(r.path("name").asText(""), r.path("description").asText(""),
                        r.path("star_count").asInt(0), r.path("is_official").asBoolean(false),
                        r.path("is_automated").asBoolean(false)));
            }
            return found;
        }
    }

    // ------------------------------------------------------------------ auth & HTTP

    /** One repository on one endpoint, with the credentials and scope its requests carry. */
    private final class Session {
        final String base;
        final String repository;
        final String scope;
        final Credentials credentials;

        Session(String base, String repository, String scope, Credentials credentials) {
            this.base = base;
            this.repository = repository;
            this.scope = scope;
            this.credentials = credentials;
        }

        URI uri(String suffix) {
            return URI.create(base + "/v2/" + repository + suffix);
        }

        HttpResponse<InputStream> send(HttpRequest.Builder request) throws IOException {
            request.timeout(settings.requestTimeout());
            String key = base + " " + scope;
            String auth = tokens.get(key);
            HttpRequest.Builder first = request.copy();
            if (auth != null) {
                first.setHeader("Authorization", auth);
            }
            HttpResponse<InputStream> response = HttpRegistryClient.this.send(first);
            if (response.statusCode() != 401) {
                return response;
            }
            List<String> challenges = response.headers().allValues("WWW-Authenticate");
            response.body().close();
            auth = authorize(challenges, scope, credentials);
            if (auth == null) {
                throw new IOException("unauthorized: authentication required" + (challenges.isEmpty() ? ""
                        : " (" + String.join(", ", challenges) + ")"));
            }
            tokens.put(key, auth);
            HttpRequest.Builder retry = request.copy();
            retry.setHeader("Authorization", auth);
            response = HttpRegistryClient.this.send(retry);
            if (response.statusCode() == 401) {
                String detail;
                try (InputStream in = response.body()) {
                    detail = detail(in);
                }
                tokens.remove(key);
                throw new IOException("unauthorized: authentication failed for " + repository + detail);
            }
            return response;
        }
    }

    /** Answers a 401's challenges: a Bearer token from the realm, or Basic with the credentials; null if neither. */
    private String authorize(List<String> challenges, String scope, Credentials creds) throws IOException {
        for (String challenge : challenges) {
            String trimmed = challenge.trim();
            int space = trimmed.indexOf(' ');
            String scheme = (space < 0 ? trimmed : trimmed.substring(0, space)).toLowerCase(Locale.ROOT);
            Map<String, String> params = new LinkedHashMap<>();
            Matcher m = PARAM.matcher(space < 0 ? "" : trimmed.substring(space + 1));
            while (m.find()) {
                params.put(m.group(1).toLowerCase(Locale.ROOT), m.group(2) != null ? m.group(2) : m.group(3));
            }
            if (scheme.equals("bearer") && params.containsKey("realm")) {
                String tokenScope = params.getOrDefault("scope", scope);
                return "Bearer " + token(params.get("realm"), params.get("service"), tokenScope, creds);
            }
            if (scheme.equals("basic") && creds.username() != null && creds.password() != null) {
                return basic(creds);
            }
        }
        return null;
    }

    private String token(String realm, String service, String scope, Credentials creds) throws IOException {
        StringBuilder query = new StringBuilder();
        if (service != null) {
            query.append("service=").append(enc(service));
        }
        if (scope != null) {
            query.append(query.length() > 0 ? "&" : "").append("scope=").append(enc(scope));
        }
        HttpRequest.Builder request;
        if (creds.identityToken() != null && !creds.identityToken().isEmpty()) {
            // OAuth2 refresh-token grant, as docker does with an identity token
            String form = "grant_type=refresh_token&client_id=berth&refresh_token=" + enc(creds.identityToken())
                    + (query.length() > 0 ? "&" + query : "");
            request = HttpRequest.newBuilder(URI.create(realm)).POST(BodyPublishers.ofString(form))
                    .header("Content-Type", "application/x-www-form-urlencoded");
        } else {
            URI uri = URI.create(realm + (query.length() == 0 ? "" : (realm.contains("?") ? "&" : "?") + query));
            request = HttpRequest.newBuilder(uri).GET();
            if (creds.username() != null && creds.password() != null) {
                request.header("Authorization", basic(creds));
            }
        }
        request.timeout(settings.requestTimeout());
        HttpResponse<InputStream> response = send(request);
        byte[] body;
        try (InputStream in = response.body()) {
            if (response.statusCode() != 200) {
                throw new IOException("unauthorized: token server " + realm + " answered HTTP "
                        + response.statusCode() + detail(in));
            }
            body = in.readNBytes(MAX_MANIFEST);
        }
        JsonNode doc = json.readTree(body);
        String token = doc.path("token").asText("");
        if (token.isEmpty()) {
            token = doc.path("access_token").asText("");
        }
        if (token.isEmpty()) {
            throw new IOException("unauthorized: token server " + realm + " returned no token");
        }
        return token;
    }

    private static String basic(Credentials creds) {
        return "Basic " + Base64.getEncoder().encodeToString(
                (creds.username() + ":" + creds.password()).getBytes(StandardCharsets.UTF_8));
    }

    private HttpResponse<InputStream> send(HttpRequest.Builder request) throws IOException {
        HttpRequest built = request.build();
        boolean unverified = "https".equals(built.uri().getScheme()) && isInsecure(built.uri().getAuthority());
        try {
            return httpClient(unverified).send(built, BodyHandlers.ofInputStream());
        } catch (java.net.ConnectException | java.net.http.HttpTimeoutException e) {
            throw new IOException("cannot reach " + built.uri().getScheme() + "://" + built.uri().getAuthority()
                    + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
        } catch (javax.net.ssl.SSLException e) {
            throw new IOException("cannot reach " + built.uri().getScheme() + "://" + built.uri().getAuthority()
                    + ": TLS failed (" + e.getMessage() + "); if the registry's certificate cannot be verified,"
                    + " name it in insecure-registries", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted talking to the registry");
        }
    }

    /** The endpoints a pull tries, in order: mirrors first for docker.io. */
    List<String> pullEndpoints(String domain) {
        if (domain.equals(Reference.DOCKER_HUB)) {
            List<String> all = new ArrayList<>(settings.mirrors());
            all.add(settings.dockerHubUrl());
            return all;
        }
        return List.of(endpoint(domain));
    }

    /**
     * The base URL requests to {@code domain} go to. A secure registry is https. An insecure one (and the
     * loopback host) is what Docker makes of it: http when its /v2/ answers there, else https without
     * verifying the certificate when /v2/ answers there; asked once per client.
     */
    String endpoint(String domain) {
        if (domain.equals(Reference.DOCKER_HUB) || !isInsecure(domain)) {
            return baseUrl(domain);
        }
        return insecureBases.computeIfAbsent(domain, d -> {
            String plain = "http://" + d;
            String tls = "https://" + d;
            return answersV2(plain) || !answersV2(tls) ? plain : tls;
        });
    }

    /** Whether GET /v2/ at {@code base} gets a registry's answer: 200, or 401 asking for credentials. */
    private boolean answersV2(String base) {
        try {
            HttpResponse<InputStream> response = send(HttpRequest.newBuilder(URI.create(base + "/v2/")).GET()
                    .timeout(settings.connectTimeout()));
            response.body().close();
            return response.statusCode() == 200 || response.statusCode() == 401;
        } catch (IOException | IllegalArgumentException e) {
            return false;
        }
    }

    /** The registry's base URL: https, or http for insecure registries and the loopback host. */
    String baseUrl(String domain) {
        if (domain.equals(Reference.DOCKER_HUB)) {
            return settings.dockerHubUrl();
        }
        return (isInsecure(domain) ? "http://" : "https://") + domain;
    }

    /** Whether {@code domain} (host and port) is an insecure registry: the loopback host, or configured so. */
    boolean isInsecure(String domain) {
        String host = domain.startsWith("[") ? domain.substring(0, domain.indexOf(']') + 1)
                : domain.contains(":") ? domain.substring(0, domain.indexOf(':')) : domain;
        return host.equals("localhost") || host.equals("127.0.0.1") || host.equals("[::1]")
                || settings.insecureRegistries().contains(domain) || settings.insecureRegistries().contains(host)
                || settings.insecureRegistries().stream().map(HttpRegistryClient::stripScheme).anyMatch(domain::equals);
    }

    // ------------------------------------------------------------------ helpers

    private IOException failure(String what, int status, InputStream body) throws IOException {
        String detail = detail(body);
        if (status == 401 || status == 403) {
            return new IOException((status == 401 ? "unauthorized: " : "denied: ") + what + detail);
        }
        return new IOException(what + ": HTTP " + status + detail);
    }

    /** ": code: message" from an OCI error body, or "" when there is none. */
    private String detail(InputStream body) {
        try {
            byte[] bytes = body.readNBytes(64 * 1024);
            if (bytes.length == 0) {
                return "";
            }
            JsonNode errors = json.readTree(bytes).path("errors");
            if (!errors.isArray() || errors.isEmpty()) {
                return "";
            }
            List<String> parts = new ArrayList<>();
            for (JsonNode e : errors) {
                String code = e.path("code").asText("");
                String message = e.path("message").asText("");
                String d = e.path("detail").isMissingNode() || e.path("detail").isNull() ? ""
                        : " (" + (e.path("detail").isTextual() ? e.path("detail").asText() : e.path("detail").toString()) + ")";
                parts.add((code.isEmpty() ? "" : code + ": ") + message + d);
            }
            return ": " + String.join("; ", parts);
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private void storeBytes(byte[] bytes, String digest, List<String> written) throws IOException {
        if (!store.exists(digest)) {
            store.write(new ByteArrayInputStream(bytes), digest, bytes.length);
            written.add(digest);
        }
    }

    private static Blob blob(JsonNode descriptor) {
        return new Blob(descriptor.path("digest").asText(null), descriptor.path("mediaType").asText(null),
                descriptor.path("size").asLong(-1));
    }

    static boolean isIndex(String mediaType) {
        return OCI_INDEX.equals(mediaType) || DOCKER_LIST.equals(mediaType);
    }

    static String sha256(byte[] bytes) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String shortId(String digest) {
        String hex = digest.substring(digest.indexOf(':') + 1);
        return hex.substring(0, Math.min(12, hex.length()));
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String stripSlash(String url) {
        String u = url;
        while (u.endsWith("/")) {
            u = u.substring(0, u.length() - 1);
        }
        return u;
    }

    private static String stripScheme(String s) {
        return s.replaceFirst("^[a-zA-Z]+://", "");
    }

    private static void await(List<Future<?>> futures) throws IOException {
        IOException first = null;
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (java.util.concurrent.CancellationException e) {
                // cancelled below because another one failed first: that failure is the one to report
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                futures.forEach(x -> x.cancel(true));
                throw new InterruptedIOException("interrupted");
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                IOException io = cause instanceof IOException x ? x : new IOException(cause.getMessage(), cause);
                if (first == null) {
                    first = io;
                    futures.forEach(x -> x.cancel(true));
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /**
     * Interrupts what still runs and waits for it to end, so that a failed pull cleans up only after every
     * download has stopped writing into the content store.
     */
    private static void stop(ExecutorService pool) {
        pool.shutdownNow();
        try {
            pool.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    /** Checks running downloads once a second for bodies that stopped arriving. */
    private static final java.util.concurrent.ScheduledExecutorService WATCHDOG =
            Executors.newSingleThreadScheduledExecutor(daemon("berth-pull-watchdog"));

    /**
     * Closes the body of a blob when no byte has arrived for the limit: the JDK client has no timeout for a
     * response body, and a registry that stops sending would otherwise hold the pull for ever.
     */
    private static final class StallWatch {
        private final Thread reader = Thread.currentThread();
        private final ProgressStream stream;
        private final long limitNanos;
        private final java.util.concurrent.ScheduledFuture<?> task;
        private long lastCount = -1;
        private long lastChange = System.nanoTime();
        private boolean stalled;
        private boolean stopped;

        StallWatch(ProgressStream stream, Duration limit) {
            this.stream = stream;
            this.limitNanos = limit.toNanos();
            this.task = WATCHDOG.scheduleAtFixedRate(this::check, 1, 1, java.util.concurrent.TimeUnit.SECONDS);
        }

        private synchronized void check() {
            long now = System.nanoTime();
            if (stream.current != lastCount) {
                lastCount = stream.current;
                lastChange = now;
            } else if (!stopped && !stalled && now - lastChange > limitNanos) {
                stalled = true;
                try {
                    stream.close(); // the JDK's body stream ignores interrupts, but wakes its reader when closed
                } catch (IOException e) {
                    reader.interrupt();
                }
            }
        }

        synchronized boolean stalled() {
            return stalled;
        }

        /** Ends the watch; clears any interrupt this watch caused, so the pool thread can be reused. */
        void stop() {
            task.cancel(false);
            synchronized (this) {
                stopped = true;
                if (stalled) {
                    Thread.interrupted();
                }
            }
        }
    }

    /** Counts bytes read and reports "Downloading" at most every 100 ms (and at the end) when there are events. */
    private static final class ProgressStream extends FilterInputStream {
        private final String id;
        private final long total;
        private final Consumer<Progress> events;
        private volatile long current;
        private long last;

        ProgressStream(InputStream in, String id, long total, Consumer<Progress> events) {
            super(in);
            this.id = id;
            this.total = total;
            this.events = events;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                advance(1);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                advance(n);
            }
            return n;
        }

        private void advance(int n) {
            current += n;
            if (events == null) {
                return;
            }
            long now = System.nanoTime();
            if (now - last >= PROGRESS_INTERVAL_NANOS || current == total) {
                last = now;
                events.accept(new Progress(id, "Downloading", current, total));
            }
        }
    }

    @Override
    public String toString() {
        return "HttpRegistryClient" + settings.mirrors().stream().collect(Collectors.joining(",", "[mirrors ", "]"));
    }
}
