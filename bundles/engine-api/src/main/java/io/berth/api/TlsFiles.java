package io.berth.api;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * dockerd's TLS settings ({@code tls}, {@code tlsverify}, {@code tlscacert}, {@code tlscert}, {@code tlskey}) as a
 * Jetty TLS context: PEM files as {@code openssl} writes them (certificates; a PKCS#8 or PKCS#1 RSA, or PKCS#8 EC
 * key). With {@code tlsverify} a client must show a certificate the CA signed.
 */
final class TlsFiles {

    private static final char[] NO_PASSWORD = new char[0];

    private TlsFiles() {
    }

    /** Missing paths default as dockerd's do: {@code ~/.docker/ca.pem}, {@code cert.pem}, {@code key.pem}. */
    static Path orDefault(String configured, String file) {
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        String dir = System.getenv("DOCKER_CERT_PATH");
        return dir != null && !dir.isBlank() ? Path.of(dir, file)
                : Path.of(System.getProperty("user.home"), ".docker", file);
    }

    /**
     * @throws IllegalArgumentException naming the file, when a file is missing or not what it should be
     */
    static SslContextFactory.Server context(Path ca, Path cert, Path key, boolean verifyClients) {
        try {
            KeyStore identity = KeyStore.getInstance("PKCS12");
            identity.load(null, null);
            List<Certificate> chain = certificates(cert);
            identity.setKeyEntry("berth", privateKey(key), NO_PASSWORD, chain.toArray(Certificate[]::new));
            SslContextFactory.Server context = new SslContextFactory.Server();
            context.setKeyStore(identity);
            context.setKeyStorePassword("");
            context.setKeyManagerPassword("");
            if (verifyClients) {
                KeyStore trusted = KeyStore.getInstance("PKCS12");
                trusted.load(null, null);
                int n = 0;
                for (Certificate authority : certificates(ca)) {
                    trusted.setCertificateEntry("ca-" + n++, authority);
                }
                context.setTrustStore(trusted);
                context.setNeedClientAuth(true);
            }
            context.setIncludeProtocols("TLSv1.2", "TLSv1.3"); // dockerd's minimum is TLS 1.2
            context.setEndpointIdentificationAlgorithm(null); // clients are identified by the CA, not by name
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("cannot set up TLS from " + cert + " and " + key + ": " + e.getMessage(), e);
        }
    }

    private static List<Certificate> certificates(Path file) throws IOException, GeneralSecurityException {
        requireFile(file);
        try (InputStream in = Files.newInputStream(file)) {
            List<Certificate> certificates = new ArrayList<>(CertificateFactory.getInstance("X.509")
                    .generateCertificates(in));
            if (certificates.isEmpty()) {
                throw new IllegalArgumentException(file + " holds no PEM certificate");
            }
            return certificates;
        }
    }

    private static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
        requireFile(file);
        String pem = Files.readString(file, StandardCharsets.US_ASCII);
        byte[] der;
        if (pem.contains("-----BEGIN PRIVATE KEY-----")) {
            der = base64Between(pem, "PRIVATE KEY");
        } else if (pem.contains("-----BEGIN RSA PRIVATE KEY-----")) {
            der = pkcs1ToPkcs8(base64Between(pem, "RSA PRIVATE KEY"));
        } else {
            throw new IllegalArgumentException(file + " holds no unencrypted PKCS#8 or RSA private key (convert it"
                    + " with: openssl pkcs8 -topk8 -nocrypt -in " + file + ")");
        }
        for (String algorithm : List.of("RSA", "EC", "Ed25519")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException tryNext) {
                // not this algorithm
            }
        }
        throw new IllegalArgumentException(file + " holds a private key of an algorithm berth cannot use");
    }

    private static byte[] base64Between(String pem, String label) {
        String begin = "-----BEGIN " + label + "-----";
        String end = "-----END " + label + "-----";
        int from = pem.indexOf(begin) + begin.length();
        int to = pem.indexOf(end, from);
        if (to < 0) {
            throw new IllegalArgumentException("a PEM block " + label + " has no end line");
        }
        return Base64.getMimeDecoder().decode(pem.substring(from, to));
    }

    /** Wraps a PKCS#1 RSA key in PKCS#8's PrivateKeyInfo: version 0, the rsaEncryption algorithm, the key. */
    private static byte[] pkcs1ToPkcs8(byte[] pkcs1) {
        byte[] algorithm = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01,
                0x01, 0x01, 0x05, 0x00};
        byte[] version = {0x02, 0x01, 0x00};
        byte[] key = der((byte) 0x04, pkcs1);
        byte[] body = new byte[version.length + algorithm.length + key.length];
        System.arraycopy(version, 0, body, 0, version.length);
        System.arraycopy(algorithm, 0, body, version.length, algorithm.length);
        System.arraycopy(key, 0, body, version.length + algorithm.length, key.length);
        return der((byte) 0x30, body);
    }

    private static byte[] der(byte tag, byte[] content) {
        int length = content.length;
        byte[] header;
        if (length < 0x80) {
            header = new byte[] {tag, (byte) length};
        } else if (length < 0x100) {
            header = new byte[] {tag, (byte) 0x81, (byte) length};
        } else if (length < 0x10000) {
            header = new byte[] {tag, (byte) 0x82, (byte) (length >> 8), (byte) length};
        } else {
            header = new byte[] {tag, (byte) 0x83, (byte) (length >> 16), (byte) (length >> 8), (byte) length};
        }
        byte[] all = new byte[header.length + length];
        System.arraycopy(header, 0, all, 0, header.length);
        System.arraycopy(content, 0, all, header.length, length);
        return all;
    }

    private static void requireFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("TLS file " + file + " does not exist");
        }
    }
}
