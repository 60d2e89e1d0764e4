package io.berth.containers;

import io.berth.spi.idmap.IdMap;
import io.berth.storage.support.Commands;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * daemon.json's {@code userns-remap}, as dockerd reads it: {@code default}, {@code USER}, {@code USER:GROUP},
 * {@code UID} or {@code UID:GID}. The user's ranges in {@code /etc/subuid} (the group's in {@code /etc/subgid})
 * become the container's ids 0, 1, ... in the order the file lists them. {@code default} is the user
 * {@code dockremap}, which is created, with 65,536 ids from the first free range at or above 100,000, when it does
 * not exist yet, as dockerd does.
 */
final class UsernsRemap {

    static final String DEFAULT_USER = "dockremap";
    private static final long DEFAULT_START = 100_000;
    private static final long DEFAULT_SIZE = 65_536;
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

    /** Where the user database is: the host's files, or test copies. */
    record UserDatabase(Path passwd, Path group, Path subuid, Path subgid) {
        static final UserDatabase HOST = new UserDatabase(Path.of("/etc/passwd"), Path.of("/etc/group"), Path.of("/etc/subuid"),
                Path.of("/etc/subgid"));
    }

    private final UserDatabase files;

    UsernsRemap(UserDatabase files) {
        this.files = files;
    }

    /**
     * The map containers get, or null for {@code ""} (no user namespaces).
     *
     * @throws IllegalArgumentException for a setting that names no user, a user without subordinate ids, or ids
     *                                  that cannot be mapped
     */
    IdMap resolve(String setting) throws IOException {
        if (setting == null || setting.isBlank()) {
            return null;
        }
        String value = setting.trim();
        if (value.equals("default")) {
            ensureDefaultUser();
            value = DEFAULT_USER + ":" + DEFAULT_USER;
        }
        String[] parts = value.split(":", -1);
        if (parts.length > 2 || parts[0].isEmpty() || (parts.length == 2 && parts[1].isEmpty())) {
            throw new IllegalArgumentException("invalid userns-remap \"" + setting
                    + "\": expected default, USER, USER:GROUP, UID or UID:GID");
        }
        String user = name(files.passwd(), parts[0], "user");
        String group = parts.length == 2 ? name(files.group(), parts[1], "group") : user;
        String uid = id(files.passwd(), user);
        String gid = id(files.group(), group);
        return new IdMap(ranges(files.subuid(), user, uid, "subuid"), ranges(files.subgid(), group, gid, "subgid"));
    }

    /**
     * Makes the data-root searchable by the remapped root, as dockerd does (mode 0711 at least), and refuses when a
     * directory above it is not: the container's root filesystem and its mounts lie below it.
     */
    static void makeSearchable(Path dataRoot) throws IOException {
        Path root = dataRoot.toAbsolutePath().normalize();
        int mode = (Integer) Files.getAttribute(root, "unix:mode") & 07777;
        if ((mode & 0111) != 0111) {
            Files.setAttribute(root, "unix:mode", mode | 0111);
        }
        for (Path dir = root.getParent(); dir != null; dir = dir.getParent()) {
            int above = (Integer) Files.getAttribute(dir, "unix:mode");
            if ((above & 0001) == 0) {
                throw new IllegalArgumentException("the remapped root cannot reach the data-root " + root + ": " + dir
                        + " has mode " + Integer.toOctalString(above & 07777)
                        + " and must be searchable by others (chmod o+x)");
            }
        }
    }

    /** A name as given, or the name of a numeric id; it must exist in {@code database}. */
    private static String name(Path database, String nameOrId, String kind) throws IOException {
        for (String[] entry : entries(database)) {
            if (entry.length > 2 && (entry[0].equals(nameOrId) || entry[2].equals(nameOrId))) {
                return entry[0];
            }
        }
        throw new IllegalArgumentException("userns-remap: no " + kind + " \"" + nameOrId + "\" in " + database);
    }

    private static String id(Path database, String name) throws IOException {
        for (String[] entry : entries(database)) {
            if (entry.length > 2 && entry[0].equals(name)) {
                return entry[2];
            }
        }
        return null;
    }

    /** The ranges of {@code name} (or its numeric id, which shadow-utils also accepts) in subuid/subgid order. */
    private static List<IdMap.Range> ranges(Path file, String name, String id, String kind) throws IOException {
        List<IdMap.Range> ranges = new ArrayList<>();
        long next = 0;
        for (String[] entry : entries(file)) {
            if (entry.length != 3 || !(entry[0].equals(name) || entry[0].equals(id))) {
                continue;
            }
            long start;
            long count;
            try {
                start = Long.parseLong(entry[1]);
                count = Long.parseLong(entry[2]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("userns-remap: bad line in " + file + ": " + String.join(":", entry));
            }
            ranges.add(new IdMap.Range(next, start, count));
            next += count;
        }
        if (ranges.isEmpty()) {
            throw new IllegalArgumentException("userns-remap: no " + kind + " ranges found for \"" + name + "\" in "
                    + file);
        }
        return ranges;
    }

    /** Creates {@code dockremap} and its subordinate ids if they are missing. */
    private void ensureDefaultUser() throws IOException {
        if (id(files.passwd(), DEFAULT_USER) == null) {
            Commands.check(List.of("useradd", "--system", "--user-group", "--shell", "/bin/false", DEFAULT_USER),
                    null, COMMAND_TIMEOUT);
        }
        boolean hasUids = hasRange(files.subuid(), DEFAULT_USER);
        boolean hasGids = hasRange(files.subgid(), DEFAULT_USER);
        if (hasUids && hasGids) {
            return;
        }
        long start = Math.max(firstFree(files.subuid()), firstFree(files.subgid()));
        String range = start + "-" + (start + DEFAULT_SIZE - 1);
        List<String> usermod = new ArrayList<>(List.of("usermod"));
        if (!hasUids) {
            usermod.addAll(List.of("--add-subuids", range));
        }
        if (!hasGids) {
            usermod.addAll(List.of("--add-subgids", range));
        }
        usermod.add(DEFAULT_USER);
        Commands.check(usermod, null, COMMAND_TIMEOUT);
    }

    private static boolean hasRange(Path file, String name) throws IOException {
        return entries(file).stream().anyMatch(entry -> entry.length == 3 && entry[0].equals(name));
    }

    /** The first id at or above 100,000 after which 65,536 ids are in no range of the file. */
    private static long firstFree(Path file) throws IOException {
        long start = DEFAULT_START;
        boolean moved = true;
        List<String[]> entries = entries(file);
        while (moved) {
            moved = false;
            for (String[] entry : entries) {
                Optional<long[]> range = parseRange(entry);
                if (range.isPresent() && start < range.get()[0] + range.get()[1]
                        && range.get()[0] < start + DEFAULT_SIZE) {
                    start = range.get()[0] + range.get()[1];
                    moved = true;
                }
            }
        }
        return start;
    }

    private static Optional<long[]> parseRange(String[] entry) {
        try {
            return entry.length == 3 ? Optional.of(new long[] {Long.parseLong(entry[1]), Long.parseLong(entry[2])})
                    : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static List<String[]> entries(Path file) throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        List<String[]> entries = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.isBlank() && !line.startsWith("#")) {
                entries.add(line.split(":", -1));
            }
        }
        return entries;
    }
}
