package io.berth.images;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A small real HTTP proxy (the JDK's HttpServer and HttpClient) in front of a registry that holds back the GET of
 * one blob until the test {@link #release}s it, and can corrupt that blob's bytes (same length). Everything else
 * it passes through as it comes.
 */
final class HoldingProxy implements AutoCloseable {

    /** How long a held blob waits for {@link #release} at most, so that a test without the release still ends. */
    static final Duration HOLD_LIMIT = Duration.ofSeconds(60);
    private static final List<String> PASSED_HEADERS = List.of("Content-Type", "Docker-Content-Digest",
            "Docker-Distribution-Api-Version", "WWW-Authenticate", "Location");

    private final String upstream;
    private final String heldPath;
    private final boolean corrupt;
    private final CountDownLatch release = new CountDownLatch(1);
    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    private volatile boolean releasedInTime;

    /**
     * @param upstream the registry's host:port
     * @param heldPath the path of the blob to hold back, e.g. /v2/test/app/blobs/sha256:...
     * @param corrupt  whether to flip one byte of that blob
     */
    HoldingProxy(String upstream, String heldPath, boolean corrupt) throws IOException {
        this.upstream = upstream;
        this.heldPath = heldPath;
        this.corrupt = corrupt;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.setExecutor(threads); // the held request must not stop the others
        server.createContext("/", this::forward);
        server.start();
    }

    /** host:port to pull from. */
    String address() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    /** Lets the held blob go. */
    void release() {
        release.countDown();
    }

    /** Whether the held blob was let go by {@link #release}, rather than by the hold limit. */
    boolean releasedInTime() {
        return releasedInTime;
    }

    private void forward(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getRawPath();
            boolean held = path.equals(heldPath) && exchange.getRequestMethod().equals("GET");
            if (held) {
                releasedInTime = release.await(HOLD_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
            }
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + upstream
                    + exchange.getRequestURI())).method(exchange.getRequestMethod(),
                    HttpRequest.BodyPublishers.ofByteArray(exchange.getRequestBody().readAllBytes()));
            for (String name : List.of("Accept", "Authorization", "Content-Type")) {
                List<String> values = exchange.getRequestHeaders().get(name);
                if (values != null) {
                    values.forEach(value -> request.header(name, value));
                }
            }
            HttpResponse<InputStream> response = client.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            for (String name : PASSED_HEADERS) {
                response.headers().allValues(name).forEach(value -> exchange.getResponseHeaders().add(name, value));
            }
            long length = response.headers().firstValueAsLong("Content-Length").orElse(-1);
            boolean head = exchange.getRequestMethod().equals("HEAD");
            if (head && length >= 0) {
                exchange.getResponseHeaders().add("Content-Length", Long.toString(length));
            }
            // HttpServer's lengths: -1 no body, 0 chunked (length unknown), n exactly n bytes.
            exchange.sendResponseHeaders(response.statusCode(), head || length == 0 ? -1 : length < 0 ? 0 : length);
            try (InputStream body = response.body(); OutputStream out = exchange.getResponseBody()) {
                if (held && corrupt && response.statusCode() == 200) {
                    byte[] bytes = body.readAllBytes();
                    bytes[bytes.length / 2] ^= 0x55;
                    out.write(bytes);
                } else {
                    body.transferTo(out);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        release.countDown();
        server.stop(0);
        threads.shutdownNow();
    }
}
