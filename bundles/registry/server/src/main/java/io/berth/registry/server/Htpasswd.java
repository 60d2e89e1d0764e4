package io.berth.registry.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;

/**
 * The users of an htpasswd file as {@code htpasswd -B} writes it
 * ({@code user:$2y$05$...}), checked against HTTP Basic credentials.
 * Only bcrypt entries are accepted, as docker-registry accepts only those;
 * a file with any other kind of entry is refused when it is read, so a
 * misconfigured registry does not start instead of turning users away.
 */
final class Htpasswd {

    private static final System.Logger LOG = System.getLogger("berth.registry");

    private final Map<String, String> hashes;
    /** Checked for an unknown user, so that the answer takes as long as for a known one. */
    private final String decoy;
    /**
     * Passwords already verified, as their SHA-256, per user: bcrypt is slow on
     * purpose and clients send the same credentials with every request.
     */
    private final Map<String, String> verified = new ConcurrentHashMap<>();

    private Htpasswd(Map<String, String> hashes) {
        this.hashes = hashes;
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        int cost = Integer.parseInt(hashes.values().iterator().next().substring(4, 6));
        this.decoy = OpenBSDBCrypt.generate("2y", "decoy".toCharArray(), salt, cost);
    }

    /** Reads the file; refuses one that is missing, has no user, or has a line that is not a bcrypt entry. */
    static Htpasswd read(Path file) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IOException("htpasswd file " + file + " does not exist");
        }
        Map<String, String> hashes = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            String where = "htpasswd file " + file + " line " + (i + 1);
            if (colon <= 0) {
                throw new IOException(where + ": expected user:hash");
            }
            String user = line.substring(0, colon);
            String hash = line.substring(colon + 1);
            if (!hash.matches("\\$2[aby]\\$\\d\\d\\$[./A-Za-z0-9]{53}")) {
                throw new IOException(where + ": the entry of user " + user
                        + " is not bcrypt; only bcrypt entries are supported (write them with htpasswd -B)");
            }
            hashes.put(user, hash);
        }
        if (hashes.isEmpty()) {
            throw new IOException("htpasswd file " + file + " has no users");
        }
        return new Htpasswd(hashes);
    }

    /** True when the value of an {@code Authorization} header holds Basic credentials of a user of the file. */
    boolean allows(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return false;
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return false;
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            return false;
        }
        String user = decoded.substring(0, colon);
        String password = decoded.substring(colon + 1);
        String hash = hashes.get(user);
        if (hash == null) {
            OpenBSDBCrypt.checkPassword(decoy, "not the decoy".toCharArray());
            return false;
        }
        String fingerprint = RegistryStorage.sha256(password.getBytes(StandardCharsets.UTF_8));
        String known = verified.get(user);
        if (known != null && MessageDigest.isEqual(known.getBytes(StandardCharsets.UTF_8),
                fingerprint.getBytes(StandardCharsets.UTF_8))) {
            return true;
        }
        boolean matches;
        try {
            matches = OpenBSDBCrypt.checkPassword(hash, password.toCharArray());
        } catch (IllegalArgumentException e) { // a password bcrypt cannot take (over 72 bytes)
            LOG.log(System.Logger.Level.DEBUG, "bcrypt refused the password of " + user + ": " + e.getMessage());
            matches = false;
        }
        if (matches) {
            verified.put(user, fingerprint);
        }
        return matches;
    }
}
