package io.berth.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * berth:registry-start, registry-stop and registry-gc on a running berthd:
 * the registry server starts, moves and stops with no restart of anything,
 * and a configuration it cannot run with is refused with the reason while
 * the running server keeps serving. skopeo and curl are its clients.
 */
class RegistryShellIT {

    @TempDir
    static Path shared;

    private static BerthDaemon daemon;

    @BeforeAll
    static void startDaemon() throws Exception {
        daemon = BerthDaemon.start(DistributionBundles.distribution(), shared.resolve("daemon"));
    }

    @AfterAll
    static void stopDaemon() throws Exception {
        if (daemon != null) {
            daemon.shell("berth:registry-stop");
            daemon.close();
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    private static Commands.Result ok(Commands.Result result) {
        assertEquals(0, result.exitCode(), result::toString);
        return result;
    }

    @Test
    void registryStartsMovesRefusesABadConfigurationAndStops(@TempDir Path dir) throws Exception {
        Path root = dir.resolve("registry");
        int port = freePort();
        Commands.Result started = ok(daemon.shell("berth:registry-start --port " + port + " --root " + root));
        assertTrue(started.stdout().contains("registry server listening on http://127.0.0.1:" + port
                + ", storing in " + root), started::toString);
        // the command returns once the server answers: no waiting here
        assertEquals("{\"repositories\":[]}", ok(Commands.run("curl", "-sS", "--fail",
                "http://127.0.0.1:" + port + "/v2/_catalog")).stdout().trim());

        Path archive = dir.resolve("hello.tar");
        ImageArchives.dockerArchive(archive, "berth-test/hello:latest", Map.of("hello.txt", "hello\n"));
        ok(Commands.run("skopeo", "copy", "--dest-tls-verify=false", "docker-archive:" + archive,
                "docker://127.0.0.1:" + port + "/shell/hello:v1"));

        // another port, same storage: the server moves, nothing is lost
        int moved = freePort();
        ok(daemon.shell("berth:registry-start --port " + moved));
        assertEquals(7, Commands.run("curl", "-sS", "http://127.0.0.1:" + port + "/v2/").exitCode(),
                "nothing listens on the old port");
        assertEquals("{\"name\":\"shell/hello\",\"tags\":[\"v1\"]}", ok(Commands.run("curl", "-sS", "--fail",
                "http://127.0.0.1:" + moved + "/v2/shell/hello/tags/list")).stdout().trim());

        // a configuration the server cannot run with: refused with the reason, the old one serves on
        Path missing = dir.resolve("no-such-htpasswd");
        Commands.Result refused = daemon.shell("berth:registry-start --htpasswd " + missing);
        assertNotEquals(0, refused.exitCode(), refused::toString);
        String said = refused.stderr();
        assertTrue(said.contains("the registry server did not start: htpasswd file " + missing + " does not exist"), said);
        assertTrue(said.contains("back as it was"), said);
        Await.until("the registry to be back on " + moved, () -> curlStatus("http://127.0.0.1:" + moved + "/v2/"),
                "200"::equals, () -> "");

        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Commands.Result inUse = daemon.shell("berth:registry-start --port " + taken.getLocalPort());
            assertNotEquals(0, inUse.exitCode(), inUse::toString);
            assertTrue(inUse.stderr().contains("the registry server did not start: Failed to bind to /127.0.0.1:"
                    + taken.getLocalPort()),
                    inUse::toString);
        }
        Await.until("the registry to be back on " + moved, () -> curlStatus("http://127.0.0.1:" + moved + "/v2/"),
                "200"::equals, () -> "");

        // garbage collection: an old blob no manifest references goes, the image's blobs and a fresh one stay
        byte[] orphan = "no manifest names me".getBytes();
        String orphanDigest = sha256(orphan);
        Path orphanFile = dir.resolve("orphan");
        Files.write(orphanFile, orphan);
        ok(Commands.run("curl", "-sS", "--fail", "-X", "POST", "--data-binary", "@" + orphanFile,
                "http://127.0.0.1:" + moved + "/v2/shell/hello/blobs/uploads/?digest=" + orphanDigest));
        ok(Commands.run("touch", "-d", "2 hours ago", root.resolve("blobs/sha256").resolve(orphanDigest.substring(7)).toString()));
        byte[] fresh = "pushed a moment ago".getBytes();
        Files.write(orphanFile, fresh);
        ok(Commands.run("curl", "-sS", "--fail", "-X", "POST", "--data-binary", "@" + orphanFile,
                "http://127.0.0.1:" + moved + "/v2/shell/hello/blobs/uploads/?digest=" + sha256(fresh)));
        Commands.Result gc = ok(daemon.shell("berth:registry-gc"));
        assertTrue(gc.stdout().contains("deleted " + orphanDigest + "\n"), gc::toString);
        assertTrue(gc.stdout().contains("deleted 1 blob(s), " + orphan.length + " bytes freed"), gc::toString);
        assertEquals("404", curlStatus("http://127.0.0.1:" + moved + "/v2/shell/hello/blobs/" + orphanDigest));
        assertEquals("200", curlStatus("http://127.0.0.1:" + moved + "/v2/shell/hello/blobs/" + sha256(fresh)));
        ok(Commands.run("skopeo", "inspect", "--tls-verify=false", "docker://127.0.0.1:" + moved + "/shell/hello:v1"));

        Commands.Result badPort = daemon.shell("berth:registry-start --port 70000");
        assertNotEquals(0, badPort.exitCode());
        assertTrue(badPort.stderr().contains("--port needs a TCP port from 1 to 65535, not 70000"),
                badPort::toString);
        Commands.Result unknown = daemon.shell("berth:registry-start --bogus x");
        assertTrue(unknown.stderr().contains("unknown option --bogus"), unknown::toString);

        Commands.Result stopped = ok(daemon.shell("berth:registry-stop"));
        assertTrue(stopped.stdout().contains("registry server stopped"), stopped::toString);
        assertEquals(7, Commands.run("curl", "-sS", "http://127.0.0.1:" + moved + "/v2/").exitCode());
        assertTrue(ok(daemon.shell("berth:registry-stop")).stdout().contains("the registry server is not configured"));
        assertTrue(Files.isDirectory(root.resolve("blobs/sha256")), "stopping keeps the storage");
        Commands.Result noGc = daemon.shell("berth:registry-gc");
        assertTrue(noGc.stderr().contains("the registry server is not running"), noGc::toString);
    }

    @Test
    void registryStartWithUsersAndTls(@TempDir Path dir) throws Exception {
        Path htpasswd = dir.resolve("htpasswd");
        Files.writeString(htpasswd, ok(Commands.run("htpasswd", "-Bbn", "alice", "s3cret")).stdout());
        Path certificate = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        ok(Commands.run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-keyout", key.toString(), "-out", certificate.toString(), "-subj", "/CN=localhost",
                "-addext", "subjectAltName=IP:127.0.0.1"));
        int port = freePort();
        Commands.Result started = ok(daemon.shell("berth:registry-start --port " + port + " --root " + dir.resolve("reg")
                + " --htpasswd " + htpasswd + " --realm shelltest --tls-certificate " + certificate + " --tls-key " + key));
        assertTrue(started.stdout().contains("listening on https://127.0.0.1:" + port + " (users from " + htpasswd + ")"),
                started::toString);
        String url = "https://127.0.0.1:" + port + "/v2/";
        Commands.Result anonymous = ok(Commands.run("curl", "-sS", "-i", "--cacert", certificate.toString(), url));
        assertTrue(anonymous.stdout().startsWith("HTTP/1.1 401"), anonymous::toString);
        assertTrue(anonymous.stdout().contains("Basic realm=\"shelltest\""), anonymous::toString);
        Commands.Result alice = ok(Commands.run("curl", "-sS", "--fail", "--cacert", certificate.toString(),
                "-u", "alice:s3cret", url));
        assertEquals("{}", alice.stdout().trim());
        ok(daemon.shell("berth:registry-stop"));
    }

    private static String sha256(byte[] content) throws Exception {
        return "sha256:" + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(content));
    }

    private static String curlStatus(String url) {
        try {
            return Commands.run("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url).stdout().trim();
        } catch (Exception e) {
            return e.toString();
        }
    }
}
