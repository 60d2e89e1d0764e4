package io.berth.storage.archive;

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

/** Test helpers: running tools, and a whole tree as one comparable map. */
final class Trees {

    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

    private Trees() {
    }

    /** Runs a command, failing with its output if it fails; returns stdout+stderr. */
    static String run(String... command) throws IOException {
        return run(null, command);
    }

    static String run(Path workingDir, String... command) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        if (workingDir != null) {
            builder.directory(workingDir.toFile());
        }
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return output;
    }

    static void setXattr(Path path, String name, String value) throws IOException {
        run("setfattr", "-h", "-n", name, "-v", value, path.toString());
    }

    /** name -> hex value of every xattr of one path (symlinks not followed). */
    static Map<String, String> xattrsOf(Path path) throws IOException {
        Map<String, String> result = new TreeMap<>();
        String output = run("getfattr", "-h", "-d", "-m", "-", "-e", "hex", "--absolute-names", path.toString());
        for (String line : output.split("\n")) {
            if (line.isBlank() || line.startsWith("# file: ")) {
                continue;
            }
            int equals = line.indexOf('=');
            result.put(line.substring(0, equals), line.substring(equals + 1));
        }
        return result;
    }

    /**
     * Everything a layer must keep about a tree: path -> type, mode, owner, size, content hash,
     * mtime (seconds, not for directories), link target, device numbers, hard-link group, xattrs.
     * The root itself is left out.
     */
    static Map<String, String> snapshot(Path root) throws IOException {
        return snapshot(root, false);
    }

    /** {@link #snapshot(Path)}, with directories' mtimes if {@code directoryTimes}. */
    static Map<String, String> snapshot(Path root, boolean directoryTimes) throws IOException {
        Map<String, String> entries = new TreeMap<>();
        Map<Object, List<String>> inodes = new HashMap<>();
        Map<String, Map<String, byte[]>> xattrs = Xattrs.readTree(root);
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (!dir.equals(root)) {
                    visit(dir, attrs);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                visit(file, attrs);
                if (!attrs.isDirectory() && !attrs.isSymbolicLink()) {
                    inodes.computeIfAbsent(attrs.fileKey(), key -> new ArrayList<>()).add(name(root, file));
                }
                return FileVisitResult.CONTINUE;
            }

            private void visit(Path path, BasicFileAttributes attrs) throws IOException {
                String name = name(root, path);
                String description = describe(path, attrs, xattrs.get(name));
                if (directoryTimes && attrs.isDirectory()) {
                    description += " mtime=" + attrs.lastModifiedTime().to(TimeUnit.SECONDS);
                }
                entries.put(name, description);
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
        return root.relativize(path).toString();
    }

    private static String describe(Path path, BasicFileAttributes attrs, Map<String, byte[]> xattrs)
            throws IOException {
        Map<String, Object> unix = Files.readAttributes(path, "unix:mode,uid,gid,rdev,size", NOFOLLOW);
        int mode = (Integer) unix.get("mode");
        StringBuilder text = new StringBuilder(String.format("mode=%o uid=%s gid=%s", mode, unix.get("uid"), unix.get("gid")));
        int type = mode & 0170000;
        if (attrs.isSymbolicLink()) {
            text.append(" symlink=").append(Files.readSymbolicLink(path))
                    .append(" mtime=").append(attrs.lastModifiedTime().to(TimeUnit.SECONDS));
        } else if (attrs.isRegularFile()) {
            text.append(" size=").append(attrs.size()).append(" sha256=").append(sha256(path))
                    .append(" mtime=").append(attrs.lastModifiedTime().to(TimeUnit.SECONDS));
        } else if (type == 0020000 || type == 0060000) {
            text.append(" rdev=").append(unix.get("rdev"))
                    .append(" mtime=").append(attrs.lastModifiedTime().to(TimeUnit.SECONDS));
        } else if (type == 0010000) {
            text.append(" fifo mtime=").append(attrs.lastModifiedTime().to(TimeUnit.SECONDS));
        }
        if (xattrs != null && !xattrs.isEmpty()) {
            text.append(" xattrs={");
            xattrs.forEach((key, value) -> text.append(key).append('=').append(HexFormat.of().formatHex(value)).append(';'));
            text.append('}');
        }
        return text.toString();
    }

    static String sha256(Path file) throws IOException {
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

    /** Names directly in a directory, sorted. */
    static List<String> list(Path dir) throws IOException {
        try (var stream = Files.list(dir)) {
            return stream.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
