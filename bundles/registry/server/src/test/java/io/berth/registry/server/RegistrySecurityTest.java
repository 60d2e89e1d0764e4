package io.berth.registry.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** htpasswd Basic auth and TLS, with htpasswd, openssl, curl and skopeo as the peers. */
class RegistrySecurityTest {

    @TempDir
    Path temp;

    private RegistryServer server;
    private final ObjectMapper json = new ObjectMapper();

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.stop();
        }
    }

    private RegistryServer start(RegistryServer.Options options) throws Exception {
        server = new RegistryServer(temp.resolve("registry"), "127.0.0.1", 0, options);
        server.start();
        return server;
    }

    private Path htpasswd(String... usersAndPasswords) throws Exception {
        StringBuilder file = new StringBuilder();
        for (int i = 0; i < usersAndPasswords.length; i += 2) {
            file.append(Processes.run("htpasswd", "-Bbn", usersAndPasswords[i], usersAndPasswords[i + 1]).ok().stdout()
                    .strip()).append('\n');
        }
        Path path = temp.resolve("htpasswd");
        Files.writeString(path, file);
        return path;
    }

    /** curl -i: the status line, headers and body, with curl's exit code. */
    private Processes.Result curl(String... arguments) throws Exception {
        String[] command = Stream.concat(Stream.of("curl", "-sS", "-i"), Stream.of(arguments)).toArray(String[]::new);
        return Processes.run(command);
    }

    private static int status(Processes.Result curl) {
        return Integer.parseInt(curl.stdout().split(" ", 3)[1]);
    }

    private static String header(Processes.Result curl, String name) {
        return curl.stdout().lines().filter(l -> l.regionMatches(true, 0, name + ":", 0, name.length() + 1))
                .map(l -> l.substring(name.length() + 1).strip()).findFirst().orElse(null);
    }

    private JsonNode body(Processes.Result curl) throws IOException {
        String out = curl.stdout();
        return json.readTree(out.substring(out.indexOf("\r\n\r\n") + 4));
    }

    // ---------------------------------------------------------------- auth

    @Test
    void everyEndpointAsksForBasicCredentialsOfAnHtpasswdUser() throws Exception {
        Path users = htpasswd("alice", "s3cret", "bob", "with:colon");
        start(new RegistryServer.Options(users, "berth test", null, null));
        String base = "http://127.0.0.1:" + server.port();

        for (String path : new String[] {"/v2/", "/v2/_catalog", "/v2/x/tags/list", "/v2/x/manifests/latest"}) {
            Processes.Result anonymous = curl(base + path).ok();
            assertEquals(401, status(anonymous), path);
            assertEquals("Basic realm=\"berth test\"", header(anonymous, "WWW-Authenticate"), path);
            assertEquals("UNAUTHORIZED", body(anonymous).path("errors").path(0).path("code").asText(), path);
            assertEquals("registry/2.0", header(anonymous, "Docker-Distribution-API-Version"));
        }
        assertEquals(401, status(curl("-u", "alice:wrong", base + "/v2/").ok()));
        assertEquals(401, status(curl("-u", "mallory:s3cret", base + "/v2/").ok()));
        assertEquals(401, status(curl("-H", "Authorization: Bearer s3cret", base + "/v2/").ok()));

        Processes.Result alice = curl("-u", "alice:s3cret", base + "/v2/").ok();
        assertEquals(200, status(alice));
        assertEquals("{}", body(alice).toString());
        assertEquals(200, status(curl("-u", "alice:s3cret", base + "/v2/").ok()), "again, from the cache of checked passwords");
        assertEquals(200, status(curl("-u", "bob:with:colon", base + "/v2/_catalog").ok()), "a password may hold ':'");

        // a real client: skopeo pushes only with credentials, and nothing is stored without them
        Path layout = temp.resolve("layout");
        String digest = OciLayout.write(layout, "v1", Map.of("hello.txt", "hello".getBytes()));
        String destination = "docker://127.0.0.1:" + server.port() + "/secured/app:v1";
        Processes.Result refused = Processes.run("skopeo", "copy", "--dest-tls-verify=false",
                "oci:" + layout + ":v1", destination);
        assertNotEquals(0, refused.exit());
        assertTrue(refused.stderr().contains("401") || refused.stderr().toLowerCase().contains("unauthorized"),
                refused.stderr());
        assertEquals(0, count(server.root().resolve("blobs/sha256")));

        Processes.run("skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", "alice:s3cret",
                "oci:" + layout + ":v1", destination).ok();
        Processes.Result inspected = Processes.run("skopeo", "inspect", "--tls-verify=false", "--creds", "bob:with:colon",
                "--format", "{{.Digest}}", destination).ok();
        assertEquals(digest, inspected.stdout().strip());
    }

    @Test
    void editsOfTheHtpasswdFileTakeEffectWhileTheServerRuns() throws Exception {
        Path users = htpasswd("alice", "s3cret");
        start(new RegistryServer.Options(users, null, null, null));
        String ping = "http://127.0.0.1:" + server.port() + "/v2/";
        assertEquals(200, status(curl("-u", "alice:s3cret", ping).ok()));
        assertEquals(401, status(curl("-u", "carol:pw", ping).ok()));

        Processes.run("htpasswd", "-Bb", users.toString(), "carol", "pw").ok();
        assertEquals(200, status(curl("-u", "carol:pw", ping).ok()), "a user added meanwhile");
        Processes.run("htpasswd", "-Bb", users.toString(), "alice", "n3w").ok();
        assertEquals(401, status(curl("-u", "alice:s3cret", ping).ok()), "the old password, though verified before");
        assertEquals(200, status(curl("-u", "alice:n3w", ping).ok()));

        // a file broken meanwhile: logged, and the users read before stay
        String valid = Files.readString(users);
        Files.writeString(users, valid + "dave:plaintext\n");
        assertEquals(200, status(curl("-u", "alice:n3w", ping).ok()));
        assertEquals(200, status(curl("-u", "carol:pw", ping).ok()));
        Files.writeString(users, valid);
        Processes.run("htpasswd", "-D", users.toString(), "carol").ok();
        assertEquals(401, status(curl("-u", "carol:pw", ping).ok()), "a user removed meanwhile");
        assertEquals(200, status(curl("-u", "alice:n3w", ping).ok()));
    }

    @Test
    void htpasswdFilesThatCannotBeUsedStopTheServerFromStarting() throws Exception {
        Path md5 = temp.resolve("md5");
        Files.writeString(md5, Processes.run("htpasswd", "-mbn", "bob", "pw").ok().stdout());
        IOException notBcrypt = assertThrows(IOException.class,
                () -> start(new RegistryServer.Options(md5, null, null, null)));
        assertTrue(notBcrypt.getMessage().contains("line 1") && notBcrypt.getMessage().contains("htpasswd -B"),
                notBcrypt.getMessage());

        Path missing = temp.resolve("nope");
        IOException absent = assertThrows(IOException.class,
                () -> start(new RegistryServer.Options(missing, null, null, null)));
        assertTrue(absent.getMessage().contains(missing + " does not exist"), absent.getMessage());

        Path empty = Files.writeString(temp.resolve("empty"), "# nobody\n");
        assertThrows(IOException.class, () -> start(new RegistryServer.Options(empty, null, null, null)));
        assertEquals(false, Files.exists(temp.resolve("registry")), "nothing was created for a server that did not start");
    }

    // ---------------------------------------------------------------- TLS

    @ParameterizedTest
    @EnumSource(SelfSigned.KeyFormat.class)
    void tlsWithEachPemKeyFormat(SelfSigned.KeyFormat format) throws Exception {
        SelfSigned tls = SelfSigned.create(temp.resolve("tls"), format);
        start(new RegistryServer.Options(null, null, tls.certificate(), tls.key()));
        assertTrue(server.tls());
        String base = "https://127.0.0.1:" + server.port();

        Processes.Result verified = curl("--cacert", tls.certificate().toString(), base + "/v2/").ok();
        assertEquals(200, status(verified));
        assertEquals("{}", body(verified).toString());
        assertEquals(200, status(curl("--cacert", tls.certificate().toString(),
                "https://localhost:" + server.port() + "/v2/_catalog").ok()));

        Processes.Result untrusted = curl(base + "/v2/");
        assertEquals(60, untrusted.exit(), "curl does not trust a certificate it was not given: " + untrusted);
        Processes.Result plain = curl("http://127.0.0.1:" + server.port() + "/v2/");
        assertTrue(plain.exit() != 0 || status(plain) == 400, "plain HTTP is not served on the TLS port: " + plain);
    }

    @Test
    void tlsAndAuthTogetherWithSkopeoVerifyingTheCertificate() throws Exception {
        SelfSigned tls = SelfSigned.create(temp.resolve("tls"), SelfSigned.KeyFormat.EC_TRADITIONAL);
        start(new RegistryServer.Options(htpasswd("alice", "s3cret"), null, tls.certificate(), tls.key()));
        Path certs = tls.certDir(temp.resolve("certs.d"));
        Path layout = temp.resolve("layout");
        String digest = OciLayout.write(layout, "v1", Map.of("a", "a".getBytes()), Map.of("b", "b".getBytes()));
        String image = "docker://127.0.0.1:" + server.port() + "/tls/app:v1";

        Processes.Result untrusted = Processes.run("skopeo", "copy", "--dest-creds", "alice:s3cret",
                "oci:" + layout + ":v1", image);
        assertNotEquals(0, untrusted.exit(), "skopeo verifies TLS and does not know the certificate");
        assertTrue(untrusted.stderr().contains("certificate"), untrusted.stderr());

        Processes.run("skopeo", "copy", "--dest-cert-dir", certs.toString(), "--dest-creds", "alice:s3cret",
                "oci:" + layout + ":v1", image).ok();
        Path back = temp.resolve("back");
        Processes.run("skopeo", "copy", "--src-cert-dir", certs.toString(), "--src-creds", "alice:s3cret",
                image, "oci:" + back + ":v1").ok();
        assertEquals(digest, OciLayout.manifestDigestOf(back));
    }

    @Test
    void unusableTlsFilesStopTheServerFromStartingWithTheReason() throws Exception {
        SelfSigned one = SelfSigned.create(temp.resolve("one"), SelfSigned.KeyFormat.RSA_PKCS8);
        SelfSigned other = SelfSigned.create(temp.resolve("other"), SelfSigned.KeyFormat.RSA_TRADITIONAL);
        IOException mismatch = assertThrows(IOException.class,
                () -> start(new RegistryServer.Options(null, null, one.certificate(), other.key())));
        assertTrue(mismatch.getMessage().contains("is not the key of certificate"), mismatch.getMessage());

        Path encrypted = temp.resolve("encrypted.pem");
        Processes.run("openssl", "rsa", "-in", one.key().toString(), "-aes256", "-passout", "pass:pw",
                "-traditional", "-out", encrypted.toString()).ok();
        IOException passphrase = assertThrows(IOException.class,
                () -> start(new RegistryServer.Options(null, null, one.certificate(), encrypted)));
        assertTrue(passphrase.getMessage().contains("encrypted"), passphrase.getMessage());

        IOException certificateAsKey = assertThrows(IOException.class,
                () -> start(new RegistryServer.Options(null, null, one.certificate(), one.certificate())));
        assertTrue(certificateAsKey.getMessage().contains("holds CERTIFICATE, not a private key"),
                certificateAsKey.getMessage());

        IOException keyAsCertificate = assertThrows(IOException.class,
                () -> start(new RegistryServer.Options(null, null, one.key(), one.key())));
        assertTrue(keyAsCertificate.getMessage().startsWith("TLS certificate " + one.key()), keyAsCertificate.getMessage());

        IOException half = assertThrows(IOException.class,
                () -> start(new RegistryServer.Options(null, null, one.certificate(), null)));
        assertTrue(half.getMessage().contains("only the certificate"), half.getMessage());
        assertEquals(false, Files.exists(temp.resolve("registry")));
    }

    private static long count(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.count();
        }
    }
}
