package io.berth.storage.testsuite;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Everything about a directory tree that a layer must preserve, as one
 * comparable map: path -> type, mode (with setuid bits), owner, size, content
 * hash, link target, device numbers, hard-link group and extended attributes.
 * Directory times are left out (overlay and the kernel touch them); file and
 * symlink times are kept to the second, as tar keeps them.
 */
final class TreeSnapshot {

    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

    private TreeSnapshot() {
    }

    static Map<String, String> of(Path root) throws IOException {
        Map<String, String> entries = new TreeMap<>();
        Map<Object, List<String>> inodes = new HashMap<>();
        Map<String, String> xattrs = xattrs(root);
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                entries.put(name(root, dir), describe(dir, attrs, xattrs.get(dir.toString())));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                String name = name(root, file);
                entries.put(name, describe(file, attrs, xattrs.get(file.toString())));
                if (attrs.isRegularFile()) {
                    inodes.computeIfAbsent(attrs.fileKey(), key -> new ArrayList<>()).add(name);
                }
                return FileVisitResult.CONTINUE;
            }
        });
        for (List<String> group : inodes.values()) {
            if (group.size() > 1) {
                group.sort(null);
                for (String name : group) {
                    entries.put(name, entries.get(name) + " links=" + group);
                }
            }
        }
        return entries;
    }

    private static String name(Path root, Path path) {
        String relative = root.relativize(path).toString();
        return "/" + relative;
    }

    private static String describe(Path path, BasicFileAttributes attrs, String xattrs) throws IOException {
        Map<String, Object> unix = Files.readAttributes(path, "unix:mode,uid,gid,rdev,size", NOFOLLOW);
        int mode = (Integer) unix.get("mode");
        StringBuilder text = new StringBuilder()
                .append(String.format("mode=%o uid=%s gid=%s", mode, unix.get("uid"), unix.get("gid")));
        int type = mode & 0170000;
        if (attrs.isSymbolicLink()) {
            text.append(" symlink=").append(Files.readSymbolicLink(path))
                    .append(" mtime=").append(attrs.lastModifiedTime().to(TimeUnit.SECONDS));
        } else if (attrs.isRegularFile()) {
            text.append(" size=").append(attrs.size()).append(" sha256=").append(sha256(path))
                    .append(" mtime=").append(attrs.lastModifiedTime().to(TimeUnit.SECONDS));
        } else if (type == 0020000 || type == 0060000) {
            text.append(" rdev=").append(unix.get("rdev"));
        }
        if (xattrs != null && !xattrs.isEmpty()) {
            text.append(" xattrs=").append(xattrs);
        }
        return text.toString();
    }

    private static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file, NOFOLLOW)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[65536];
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every extended attribute below root (getfattr from Debian's attr), by absolute path, sorted. */
    static Map<String, String> xattrs(Path root) throws IOException {
        Process getfattr = new ProcessBuilder("getfattr", "-R", "-P", "-d", "-m", "-", "-e", "hex",
                "--absolute-names", root.toString()).redirectErrorStream(false).start();
        String output = new String(getfattr.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!getfattr.waitFor(60, TimeUnit.SECONDS)) {
                getfattr.destroyForcibly();
                throw new IOException("getfattr timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        Map<String, String> result = new HashMap<>();
        String current = null;
        List<String> values = new ArrayList<>();
        for (String line : output.split("\n")) {
            if (line.startsWith("# file: ")) {
                current = line.substring("# file: ".length());
                values = new ArrayList<>();
            } else if (line.isBlank()) {
                if (current != null) {
                    values.sort(null);
                    result.put(current, String.join(",", values));
                }
                current = null;
            } else if (current != null && !line.startsWith("trusted.overlay.")) {
                values.add(line);
            }
        }
        if (current != null) {
            values.sort(null);
            result.put(current, String.join(",", values));
        }
        return result;
    }
}
