package io.berth.registry.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.security.KeyFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.pkcs.RSAPrivateKey;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;

/**
 * A key store made from PEM files as docker-registry's {@code http.tls}
 * takes them: a certificate (chain) and its private key, the key either
 * PKCS#8 ({@code BEGIN PRIVATE KEY}) or traditional OpenSSL RSA/EC
 * ({@code BEGIN RSA PRIVATE KEY}, {@code BEGIN EC PRIVATE KEY}). Bouncy
 * Castle's ASN.1 classes read the key; the JDK's own providers then hold it.
 */
final class PemKeyStore {

    static final String ALIAS = "registry";
    /** The in-memory store needs a password; nothing is ever written with it. */
    static final char[] PASSWORD = "berth-registry".toCharArray();

    private PemKeyStore() {
    }

    /** Reads both files and checks the key belongs to the certificate; the message names the file at fault. */
    static KeyStore load(Path certificateFile, Path keyFile) throws IOException {
        X509Certificate[] chain = certificates(certificateFile);
        PrivateKey key = privateKey(keyFile);
        if (!belongTogether(key, chain[0])) {
            throw new IOException("TLS key " + keyFile + " is not the key of certificate " + certificateFile
                    + " (" + chain[0].getSubjectX500Principal() + ")");
        }
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry(ALIAS, key, PASSWORD, chain);
            return store;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot hold the TLS key of " + keyFile + ": " + e.getMessage(), e);
        }
    }

    private static X509Certificate[] certificates(Path file) throws IOException {
        Collection<? extends Certificate> certificates;
        try (InputStream in = Files.newInputStream(file)) {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
        } catch (NoSuchFileException e) {
            throw new IOException("TLS certificate " + file + " does not exist");
        } catch (GeneralSecurityException e) {
            throw new IOException("TLS certificate " + file + " is not a PEM certificate: " + e.getMessage(), e);
        }
        if (certificates.isEmpty()) {
            throw new IOException("TLS certificate " + file + " holds no certificate");
        }
        return certificates.toArray(new X509Certificate[0]);
    }

    private static PrivateKey privateKey(Path file) throws IOException {
        PemObject pem;
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
                PemReader parser = new PemReader(reader)) {
            pem = parser.readPemObject();
        } catch (NoSuchFileException e) {
            throw new IOException("TLS key " + file + " does not exist");
        } catch (IOException | IllegalArgumentException e) {
            throw new IOException("TLS key " + file + " is not a readable PEM file: " + e.getMessage(), e);
        }
        if (pem == null) {
            throw new IOException("TLS key " + file + " holds no PEM object");
        }
        if (((java.util.List<?>) pem.getHeaders()).stream().anyMatch(h -> ((org.bouncycastle.util.io.pem.PemHeader) h).getName().equals("Proc-Type"))
                || pem.getType().equals("ENCRYPTED PRIVATE KEY")) {
            throw new IOException("TLS key " + file + " is encrypted; give the key without a passphrase");
        }
        try {
            // Traditional OpenSSL keys are the bare RSA or SEC1 structure: wrapped in a PKCS#8
            // PrivateKeyInfo (what Bouncy Castle's PEM parser does too), the JDK reads them.
            PrivateKeyInfo info = switch (pem.getType()) {
                case "PRIVATE KEY" -> PrivateKeyInfo.getInstance(pem.getContent());
                case "RSA PRIVATE KEY" -> new PrivateKeyInfo(
                        new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE),
                        RSAPrivateKey.getInstance(pem.getContent()));
                case "EC PRIVATE KEY" -> {
                    ECPrivateKey ec = ECPrivateKey.getInstance(pem.getContent());
                    yield new PrivateKeyInfo(
                            new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, ec.getParametersObject()), ec);
                }
                default -> throw new IOException("TLS key " + file + " holds " + pem.getType()
                        + ", not a private key (expected BEGIN PRIVATE KEY, BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY)");
            };
            String algorithm = info.getPrivateKeyAlgorithm().getAlgorithm().equals(X9ObjectIdentifiers.id_ecPublicKey)
                    ? "EC" : info.getPrivateKeyAlgorithm().getAlgorithm().equals(PKCSObjectIdentifiers.rsaEncryption)
                    ? "RSA" : info.getPrivateKeyAlgorithm().getAlgorithm().getId();
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
        } catch (GeneralSecurityException | IllegalArgumentException | IllegalStateException e) {
            throw new IOException("TLS key " + file + " is not a valid " + pem.getType() + ": " + e.getMessage(), e);
        }
    }

    /** Signs a random message with the key and verifies it with the certificate's public key. */
    private static boolean belongTogether(PrivateKey key, X509Certificate certificate) throws IOException {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> throw new IOException("unsupported TLS key algorithm " + key.getAlgorithm());
        };
        try {
            byte[] message = new byte[32];
            new SecureRandom().nextBytes(message);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(message);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(message);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
