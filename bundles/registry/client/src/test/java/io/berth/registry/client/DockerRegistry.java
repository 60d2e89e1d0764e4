package io.berth.registry.client;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Debian's {@code /usr/bin/docker-registry} (distribution 2.8) as a test peer: started on 127.0.0.1 with an
 * ephemeral port, its own storage and a generated {@code config.yml} under a directory the test owns, optionally
 * with htpasswd basic auth ({@code htpasswd -Bbn}) and a self-signed TLS certificate ({@code openssl req}).
 * {@link #close()} stops that one process by its PID. The access log (Apache combined format, on the process's
 * standard output) tells a test which requests the registry really saw.
 */
public final class DockerRegistry implements AutoCloseable {

    public static final Path BINARY = Path.of("/usr/bin/docker-registry");
    private static final Duration START_LIMIT = Duration.ofSeconds(30);
    private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");
    /** {@code 127.0.0.1 - user [time] "METHOD /path HTTP/1.1" status bytes ...}. */
    private static final Pattern ACCESS = Pattern.compile("^\\S+ - \\S+ \\[[^]]+] \"(\\S+) (\\S+) [^\"]*\" (\\d{3}) ");

    /** One request from the access log. */
    public record Request(String method, String path, int status) {
    }

    private final Process process;
    private final Path log;
    private final int port;
    private final Path certificate;

    private DockerRegistry(Process process, Path log, int port, Path certificate) {
        this.process = process;
        this.log = log;
        this.port = port;
        this.certificate = certificate;
    }

    /** A registry without auth over plain http. */
    public static DockerRegistry start(Path dir) throws IOException, InterruptedException {
        return start(dir, null, null, false);
    }

    /** A registry that demands {@code user}/{@code password} (basic auth from an htpasswd file). */
    public static DockerRegistry withHtpasswd(Path dir, String user, String password)
            throws IOException, InterruptedException {
        return start(dir, user, password, false);
    }

    /** A registry over https with a fresh self-signed certificate for 127.0.0.1 ({@link #certificate()}). */
    public static DockerRegistry withTls(Path dir) throws IOException, InterruptedException {
        return start(dir, null, null, true);
    }

    private static DockerRegistry start(Path dir, String user, String password, boolean tls)
            throws IOException, InterruptedException {
        if (!Files.isExecutable(BINARY)) {
            throw new IllegalStateException(BINARY + " is missing: install Debian's docker-registry package");
        }
        Files.createDirectories(dir);
        StringBuilder config = new StringBuilder("""
                version: 0.1
                log:
                  level: info
                  accesslog:
                    disabled: false
                storage:
                  filesystem:
                    rootdirectory: %s
                  delete:
                    enabled: true
                http:
                  addr: 127.0.0.1:0
                  secret: berth-test-secret
                """.formatted(dir.resolve("storage")));
        Path certificate = null;
        if (tls) {
            certificate = dir.resolve("cert.pem");
            Path key = dir.resolve("key.pem");
            run(dir, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key.toString(), "-out", certificate.toString());
            config.append("  tls:\n    certificate: ").append(certificate).append("\n    key: ").append(key).append('\n');
        }
        if (user != null) {
            Path htpasswd = dir.resolve("htpasswd");
            Files.writeString(htpasswd, run(dir, "htpasswd", "-Bbn", user, password));
            config.append("auth:\n  htpasswd:\n    realm: berth-test\n    path: ").append(htpasswd).append('\n');
        }
        Path configFile = dir.resolve("config.yml");
        Files.writeString(configFile, config);
        Path log = dir.resolve("registry.log");
        Process process = new ProcessBuilder(BINARY.toString(), "serve", configFile.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        DockerRegistry registry = null;
        try {
            int port = awaitPort(process, log);
            registry = new DockerRegistry(process, log, port, certificate);
            registry.awaitV2();
            return registry;
        } finally {
            if (registry == null || !process.isAlive()) {
                stop(process);
            }
        }
    }

    /** {@code 127.0.0.1:<port>}, the registry's host as a reference names it. */
    public String address() {
        return "127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /** The self-signed certificate of a TLS registry (PEM), or null. */
    public Path certificate() {
        return certificate;
    }

    public long pid() {
        return process.pid();
    }

    /** Every request in the access log so far, oldest first. */
    public List<Request> requests() throws IOException {
        List<Request> requests = new ArrayList<>();
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            Matcher m = ACCESS.matcher(line);
            if (m.find()) {
                requests.add(new Request(m.group(1), URI.create(m.group(2)).getPath(), Integer.parseInt(m.group(3))));
            }
        }
        return requests;
    }

    /** The registry's own log (for assertion messages). */
    public String logText() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop(process);
    }

    private static void stop(Process process) throws InterruptedException {
        if (process.isAlive()) {
            process.destroy(); // SIGTERM to this PID only
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    private static int awaitPort(Process process, Path log) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + START_LIMIT.toNanos();
        while (System.nanoTime() < deadline) {
            String text = Files.readString(log, StandardCharsets.UTF_8);
            Matcher m = LISTENING.matcher(text);
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("docker-registry exited with " + process.exitValue() + ":\n" + text);
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("docker-registry did not say where it listens within "
                + START_LIMIT.toSeconds() + " s:\n" + Files.readString(log, StandardCharsets.UTF_8));
    }

    /** Waits until {@code GET /v2/} answers: 200, or 401 when auth is on. */
    private void awaitV2() throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().sslContext(sslContext()).connectTimeout(Duration.ofSeconds(5)).build();
        URI v2 = URI.create((certificate != null ? "https://" : "http://") + address() + "/v2/");
        long deadline = System.nanoTime() + START_LIMIT.toNanos();
        IOException last = null;
        while (System.nanoTime() < deadline) {
            try {
                int status = http.send(HttpRequest.newBuilder(v2).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode();
                if (status == 200 || status == 401) {
                    return;
                }
                last = new IOException("GET /v2/ answered " + status);
            } catch (IOException e) {
                last = e;
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("docker-registry at " + v2 + " did not answer: " + last + "\n" + logText());
    }

    /** An SSL context trusting only this registry's certificate (the default one for a plain registry). */
    public SSLContext sslContext() throws IOException {
        try {
            if (certificate == null) {
                return SSLContext.getDefault();
            }
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            try (InputStream in = Files.newInputStream(certificate)) {
                trust.setCertificateEntry("registry", CertificateFactory.getInstance("X.509").generateCertificate(in));
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), null);
            return context;
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("cannot trust " + certificate + ": " + e.getMessage(), e);
        }
    }

    /** Runs a tool to completion and returns its standard output; a failure says what it printed. */
    private static String run(Path dir, String... command) throws IOException, InterruptedException {
        Path err = dir.resolve(command[0] + ".err");
        Process p = new ProcessBuilder(command).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " failed: " + Files.readString(err));
        }
        return out;
    }
}
