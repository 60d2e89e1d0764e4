package io.berth.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A certificate authority with a server certificate for 127.0.0.1 and a client certificate, made by openssl in a
 * directory: what mutual TLS between the docker CLI and berthd needs.
 */
final class TestPki {

    final Path dir;

    private TestPki(Path dir) {
        this.dir = dir;
    }

    static TestPki create(Path dir) throws Exception {
        Files.createDirectories(dir);
        openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem", "-out", "ca.pem",
                "-days", "2", "-subj", "/CN=berth-itest-ca");
        certificate(dir, "server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
        certificate(dir, "client", "extendedKeyUsage=clientAuth\n");
        return new TestPki(dir);
    }

    String ca() {
        return dir.resolve("ca.pem").toString();
    }

    /** berthd's flags: listen on tcp://127.0.0.1:PORT and let in only clients the CA signed. */
    List<String> daemonArgs(int port) {
        return List.of("-H", "tcp://127.0.0.1:" + port, "--tlsverify", "--tlscacert", ca(),
                "--tlscert", dir.resolve("server-cert.pem").toString(),
                "--tlskey", dir.resolve("server-key.pem").toString());
    }

    /** The docker CLI's flags for that daemon, with the client certificate. */
    List<String> clientArgs(int port) {
        return List.of("-H", "tcp://127.0.0.1:" + port, "--tlsverify", "--tlscacert", ca(),
                "--tlscert", dir.resolve("client-cert.pem").toString(),
                "--tlskey", dir.resolve("client-key.pem").toString());
    }

    private static void certificate(Path pki, String name, String extensions) throws Exception {
        openssl(pki, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + "-key.pem", "-out", name + ".csr",
                "-subj", "/CN=" + name);
        Files.writeString(pki.resolve(name + ".ext"), extensions);
        openssl(pki, "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
                "-CAcreateserial", "-out", name + "-cert.pem", "-days", "2", "-extfile", name + ".ext");
    }

    private static void openssl(Path dir, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("sh", "-c", "cd \"$0\" && exec openssl \"$@\"",
                dir.toString()));
        command.addAll(List.of(args));
        Commands.Result result = Commands.run(command.toArray(String[]::new));
        assertEquals(0, result.exitCode(), result::toString);
    }
}
