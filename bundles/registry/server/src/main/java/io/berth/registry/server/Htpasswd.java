package io.berth.registry.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;

/**
 * The users of an htpasswd file as {@code htpasswd -B} writes it
 * ({@code user:$2y$05$...}), checked against HTTP Basic credentials.
 * Only bcrypt entries are accepted, as docker-registry accepts only those;
 * a file with any other kind of entry is refused when the server starts, so
 * a misconfigured registry does not start instead of turning users away.
 * Like docker-registry, the file is read again when it changes, so users
 * can be added or removed while the server runs; a changed file that cannot
 * be used is logged and the users read before stay.
 */
final class Htpasswd {

    private static final System.Logger LOG = System.getLogger("berth.registry");

    /**
     * One reading of the file: what it held, how to recognise that it changed,
     * and the passwords already verified against it (as SHA-256, per user),
     * since bcrypt is slow on purpose and clients send the same credentials
     * with every request.
     */
    private record Users(Object version, Map<String, String> hashes, String decoy, Map<String, String> verified) {
    }

    private final Path file;
    private volatile Users users;

    private Htpasswd(Path file, Users users) {
        this.file = file;
        this.users = users;
    }

    /** Reads the file; refuses one that is missing, has no user, or has a line that is not a bcrypt entry. */
    static Htpasswd read(Path file) throws IOException {
        return new Htpasswd(file, load(file));
    }

    private static Users load(Path file) throws IOException {
        Object version;
        List<String> lines;
        try {
            version = version(file);
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
        // checked for an unknown user, so that the answer takes as long as for a known one
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        int cost = Integer.parseInt(hashes.values().iterator().next().substring(4, 6));
        String decoy = OpenBSDBCrypt.generate("2y", "decoy".toCharArray(), salt, cost);
        return new Users(version, Map.copyOf(hashes), decoy, new ConcurrentHashMap<>());
    }

    /** What changes when the file is edited or replaced: modification time, size and inode. */
    private static Object version(Path file) throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
        return List.of(attributes.lastModifiedTime(), attributes.size(), Objects.toString(attributes.fileKey()));
    }

    /** The users of the file as it is now, read again if it changed. */
    private Users current() {
        Users known = users;
        try {
            if (version(file).equals(known.version())) {
                return known;
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot see htpasswd file " + file + " (" + e.getMessage()
                    + "); the users read before stay");
            return known;
        }
        synchronized (this) {
            try {
                Users reread = load(file);
                users = reread;
                LOG.log(System.Logger.Level.INFO, "read " + reread.hashes().size() + " user(s) again from " + file);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, e.getMessage() + "; the users read before stay");
                try {
                    // not again on every request: only when the file changes once more
                    users = new Users(version(file), known.hashes(), known.decoy(), known.verified());
                } catch (IOException gone) {
                    // it is read again at the next request
                }
            }
            return users;
        }
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
        Users now = current();
        String hash = now.hashes().get(user);
        if (hash == null) {
            OpenBSDBCrypt.checkPassword(now.decoy(), "not the decoy".toCharArray());
            return false;
        }
        String fingerprint = RegistryStorage.sha256(password.getBytes(StandardCharsets.UTF_8));
        String known = now.verified().get(user);
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
            now.verified().put(user, fingerprint);
        }
        return matches;
    }
}
