package io.berth.runtime.oci;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The user a container process runs as, resolved as Docker resolves {@code --user}: {@code uid[:gid]} or
 * {@code name[:group]}, names looked up in the rootfs's {@code /etc/passwd} and {@code /etc/group}; the user's
 * supplementary groups come from {@code /etc/group}.
 *
 * @param uid              the user id
 * @param gid              the primary group id
 * @param additionalGids   supplementary groups
 * @param home             the home directory from passwd, or {@code /}
 */
record ContainerUser(long uid, long gid, List<Long> additionalGids, String home) {

    static final ContainerUser ROOT = new ContainerUser(0, 0, List.of(), "/root");

    /**
     * Resolves {@code user} in {@code rootfs}.
     *
     * @throws IllegalArgumentException when a name is not found or an id is not a number in range
     */
    static ContainerUser resolve(Path rootfs, String user) throws IOException {
        if (user == null || user.isEmpty()) {
            user = "0";
        }
        int colon = user.indexOf(':');
        String userPart = colon < 0 ? user : user.substring(0, colon);
        String groupPart = colon < 0 ? null : user.substring(colon + 1);
        List<String[]> passwd = read(rootfs, "passwd");
        List<String[]> groups = read(rootfs, "group");

        String[] entry = null;
        long uid;
        if (isNumber(userPart)) {
            uid = id(userPart, "user");
            entry = passwd.stream().filter(e -> e.length > 3 && e[2].equals(Long.toString(uid))).findFirst().orElse(null);
        } else {
            entry = passwd.stream().filter(e -> e.length > 3 && e[0].equals(userPart)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException(
                            "unable to find user " + userPart + ": no matching entries in passwd file"));
            uid = id(entry[2], "user");
        }
        String name = entry == null ? null : entry[0];
        long gid = entry == null ? 0 : id(entry[3], "group");
        if (groupPart != null && !groupPart.isEmpty()) {
            if (isNumber(groupPart)) {
                gid = id(groupPart, "group");
            } else {
                gid = groups.stream().filter(g -> g.length > 2 && g[0].equals(groupPart)).findFirst()
                        .map(g -> id(g[2], "group"))
                        .orElseThrow(() -> new IllegalArgumentException(
                                "unable to find group " + groupPart + ": no matching entries in group file"));
            }
        }
        // the primary group too, as Docker (libcontainer's user lookup) lists it
        Set<Long> additional = new LinkedHashSet<>(List.of(gid));
        if (name != null) {
            for (String[] group : groups) {
                if (group.length > 3 && List.of(group[3].split(",")).contains(name)) {
                    additional.add(id(group[2], "group"));
                }
            }
        }
        String home = entry != null && entry.length > 5 && !entry[5].isEmpty() ? entry[5] : "/";
        return new ContainerUser(uid, gid, List.copyOf(additional), home);
    }

    /**
     * The lines of {@code /etc/NAME} split at colons, or none when the file is missing. A link is not followed:
     * it could point outside the rootfs.
     */
    private static List<String[]> read(Path rootfs, String name) throws IOException {
        Path etc = rootfs.resolve("etc");
        Path file = etc.resolve(name);
        if (Files.isSymbolicLink(etc) || Files.isSymbolicLink(file)
                || !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        List<String[]> entries = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank() && !line.startsWith("#")) {
                entries.add(line.split(":", -1));
            }
        }
        return entries;
    }

    private static boolean isNumber(String text) {
        return !text.isEmpty() && text.chars().allMatch(Character::isDigit);
    }

    private static long id(String text, String what) {
        try {
            long id = Long.parseLong(text);
            if (id >= 0 && id <= 0xFFFFFFFEL) {
                return id;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("invalid " + what + " id: \"" + text + "\"");
    }
}
