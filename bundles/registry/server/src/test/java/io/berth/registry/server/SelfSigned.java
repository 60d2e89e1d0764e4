package io.berth.registry.server;

import java.nio.file.Files;
import java.nio.file.Path;

/** A self-signed certificate for 127.0.0.1 and localhost made by openssl, with its key in the format asked for. */
record SelfSigned(Path certificate, Path key) {

    enum KeyFormat {
        /** {@code BEGIN PRIVATE KEY}, what openssl writes by default. */
        RSA_PKCS8,
        /** {@code BEGIN RSA PRIVATE KEY}. */
        RSA_TRADITIONAL,
        /** {@code BEGIN EC PRIVATE KEY}. */
        EC_TRADITIONAL,
        /** {@code BEGIN PRIVATE KEY} holding a P-256 key. */
        EC_PKCS8
    }

    static SelfSigned create(Path dir, KeyFormat format) throws Exception {
        Files.createDirectories(dir);
        Path certificate = dir.resolve("cert.pem");
        Path generated = dir.resolve("generated-key.pem");
        Path key = dir.resolve("key.pem");
        String newKey = format == KeyFormat.RSA_PKCS8 || format == KeyFormat.RSA_TRADITIONAL
                ? "rsa:2048" : "ec";
        if (newKey.equals("ec")) {
            Path params = dir.resolve("ec-params.pem");
            Processes.run("openssl", "ecparam", "-name", "prime256v1", "-out", params.toString()).ok();
            newKey = "ec:" + params;
        }
        Processes.run("openssl", "req", "-x509", "-newkey", newKey, "-nodes", "-days", "2",
                "-keyout", generated.toString(), "-out", certificate.toString(), "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1").ok();
        switch (format) {
            case RSA_PKCS8, EC_PKCS8 -> Files.move(generated, key);
            case RSA_TRADITIONAL -> Processes.run("openssl", "rsa", "-traditional", "-in", generated.toString(),
                    "-out", key.toString()).ok();
            case EC_TRADITIONAL -> Processes.run("openssl", "ec", "-in", generated.toString(),
                    "-out", key.toString()).ok();
        }
        Files.deleteIfExists(generated);
        return new SelfSigned(certificate, key);
    }

    /** A directory as skopeo's --src-cert-dir/--dest-cert-dir and docker's certs.d take it: the CA as ca.crt. */
    Path certDir(Path dir) throws Exception {
        Files.createDirectories(dir);
        Files.copy(certificate, dir.resolve("ca.crt"));
        return dir;
    }
}
