package io.berth.storage.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.Random;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** write(dir) -> extract gives the same tree, and GNU tar agrees with both directions. */
class RoundTripTest {

    static final FileTime THEN = FileTime.fromMillis(1_580_608_922_000L);
    /** cap_net_raw=p, as setcap writes it. */
    static final String CAPABILITY = "0x0100000200200000000000000000000000000000";
    /** A capability whose bytes are not valid UTF-8 (all permitted bits). */
    static final String BINARY_CAPABILITY = "0x01000002ffffffff00000000ffffffff00000000";
    static final String BINARY_USER_VALUE = "0x00ff80fec3";

    @TempDir
    Path temp;
    Path source;

    @BeforeEach
    void setUp() throws IOException {
        source = Files.createDirectories(temp.resolve("source"));
        populate(source);
    }

    /** A tree with everything a layer can hold. */
    static void populate(Path root) throws IOException {
        Files.createDirectories(root.resolve("bin"));
        Files.createDirectories(root.resolve("etc"));
        Files.createDirectories(root.resolve("tmp"));
        Files.createDirectories(root.resolve("shared"));
        Files.createDirectories(root.resolve("empty-dir"));
        Files.setAttribute(root.resolve("tmp"), "unix:mode", 01777);
        Files.setAttribute(root.resolve("shared"), "unix:mode", 02775);
        Files.writeString(root.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        Files.writeString(root.resolve("etc/owned"), "owned by 1234:5678\n");
        Files.setAttribute(root.resolve("etc/owned"), "unix:uid", 1234);
        Files.setAttribute(root.resolve("etc/owned"), "unix:gid", 5678);
        Files.write(root.resolve("etc/empty"), new byte[0]);
        byte[] big = new byte[3 * 1024 * 1024 + 17];
        new Random(7).nextBytes(big);
        Files.write(root.resolve("bin/big"), big);
        Files.write(root.resolve("bin/tool"), new byte[] {0x7f, 'E', 'L', 'F', 0, 1, 2, 3});
        Files.setAttribute(root.resolve("bin/tool"), "unix:mode", 04755);
        Files.write(root.resolve("bin/setgid"), new byte[] {1});
        Files.setAttribute(root.resolve("bin/setgid"), "unix:mode", 02711);
        Files.createLink(root.resolve("bin/hard"), root.resolve("bin/tool"));
        Files.createLink(root.resolve("etc/hard-too"), root.resolve("bin/tool"));
        Files.createSymbolicLink(root.resolve("bin/link"), Path.of("tool"));
        Files.createSymbolicLink(root.resolve("etc/absolute"), Path.of("/etc/passwd"));
        Files.createSymbolicLink(root.resolve("etc/dangling"), Path.of("../nowhere/at/all"));
        Files.setAttribute(root.resolve("etc/absolute"), "unix:uid", 42, LinkOption.NOFOLLOW_LINKS);
        Path deep = root.resolve("a".repeat(60)).resolve("b".repeat(60)).resolve("c".repeat(60));
        Files.createDirectories(deep);
        Path longFile = Files.writeString(deep.resolve("long-name-" + "d".repeat(120)), "long\n");
        Files.createLink(root.resolve("link-to-long"), longFile);
        Files.createSymbolicLink(root.resolve("symlink-long"), root.relativize(longFile));
        Files.writeString(root.resolve("ünïcödé-名前"), "utf-8 names\n");
        Files.createDirectories(root.resolve("run"));
        Trees.run("mkfifo", "-m", "0620", root.resolve("run/fifo").toString());
        Files.createDirectories(root.resolve("dev"));
        Trees.run("mknod", "-m", "666", root.resolve("dev/null").toString(), "c", "1", "3");
        Trees.run("mknod", "-m", "660", root.resolve("dev/loop0").toString(), "b", "7", "0");
        Trees.run("mknod", "-m", "600", root.resolve("dev/big-numbers").toString(), "c", "300", "70000");
        Trees.setXattr(root.resolve("etc/passwd"), "user.berth", "hello");
        Trees.setXattr(root.resolve("etc/passwd"), "user.binary", BINARY_USER_VALUE);
        Trees.setXattr(root.resolve("etc/passwd"), "user.empty", "");
        Trees.setXattr(root.resolve("bin/tool"), "security.capability", CAPABILITY);
        Trees.setXattr(root.resolve("bin/setgid"), "security.capability", BINARY_CAPABILITY);
        Trees.setXattr(root.resolve("etc"), "trusted.berth", "0x0102ff");
        Trees.setXattr(root.resolve("etc/absolute"), "trusted.on-a-link", "yes");
        for (String file : new String[] {"etc/passwd", "etc/owned", "bin/tool", "bin/big", "run/fifo", "dev/null", "ünïcödé-名前"}) {
            setTimes(root.resolve(file), THEN);
        }
        setTimes(root.resolve("bin/link"), THEN);
    }

    /** Sets mtime without opening the file (a fifo would block an open). */
    static void setTimes(Path path, FileTime time) throws IOException {
        if (Files.isSymbolicLink(path) || Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)
                || Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
            Files.getFileAttributeView(path, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setTimes(time, null, null);
        } else {
            Trees.run("touch", "-h", "-d", "@" + time.toMillis() / 1000, path.toString());
        }
    }

    static byte[] write(Path dir, WhiteoutFormat format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        LayerTar.write(dir, out, format);
        return out.toByteArray();
    }

    @Test
    void writeThenExtractGivesTheSameTree() throws IOException {
        byte[] tar = write(source, WhiteoutFormat.OCI);
        Path target = Files.createDirectories(temp.resolve("target"));
        long written = LayerTar.extract(new ByteArrayInputStream(tar), target, WhiteoutFormat.OCI);

        assertEquals(Trees.snapshot(source, true), Trees.snapshot(target, true));
        assertTrue(written >= 3 * 1024 * 1024 + 17, "content bytes " + written);
        // spot checks that do not depend on the snapshot code
        assertEquals(Files.getAttribute(target.resolve("bin/tool"), "unix:ino"),
                Files.getAttribute(target.resolve("bin/hard"), "unix:ino"));
        assertEquals(3, (Integer) Files.getAttribute(target.resolve("bin/tool"), "unix:nlink"));
        assertEquals(04755, (Integer) Files.getAttribute(target.resolve("bin/tool"), "unix:mode") & 07777);
        assertEquals(1234, (Integer) Files.getAttribute(target.resolve("etc/owned"), "unix:uid"));
        assertEquals(5678, (Integer) Files.getAttribute(target.resolve("etc/owned"), "unix:gid"));
        assertEquals(42, (Integer) Files.getAttribute(target.resolve("etc/absolute"), "unix:uid", LinkOption.NOFOLLOW_LINKS));
        assertEquals(THEN, Files.getLastModifiedTime(target.resolve("bin/link"), LinkOption.NOFOLLOW_LINKS));
        assertEquals(CAPABILITY, Trees.xattrsOf(target.resolve("bin/tool")).get("security.capability"));
        assertEquals(BINARY_CAPABILITY, Trees.xattrsOf(target.resolve("bin/setgid")).get("security.capability"));
        assertEquals(BINARY_USER_VALUE, Trees.xattrsOf(target.resolve("etc/passwd")).get("user.binary"));
        assertEquals("0x0102ff", Trees.xattrsOf(target.resolve("etc")).get("trusted.berth"));
        assertEquals(0020000 | 0666, (Integer) Files.getAttribute(target.resolve("dev/null"), "unix:mode"));
        assertEquals(Files.getAttribute(source.resolve("dev/big-numbers"), "unix:rdev"),
                Files.getAttribute(target.resolve("dev/big-numbers"), "unix:rdev"));
    }

    @Test
    void writtenTarsAreReproducibleAndSorted() throws IOException {
        byte[] first = write(source, WhiteoutFormat.OCI);
        byte[] second = write(source, WhiteoutFormat.OCI);
        assertArrayEquals(first, second);
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new ByteArrayInputStream(first))) {
            String previous = null;
            int entries = 0;
            for (TarArchiveEntry entry = tar.getNextEntry(); entry != null; entry = tar.getNextEntry()) {
                String name = entry.getName();
                assertTrue(!name.startsWith("/") && !name.startsWith("./"), name);
                assertEquals(entry.isDirectory(), name.endsWith("/"), name);
                if (previous != null) {
                    assertTrue(treeOrder(previous, name) < 0, previous + " before " + name);
                }
                previous = name;
                entries++;
            }
            assertTrue(entries > 20, "entries " + entries);
        }
    }

    private static int treeOrder(String a, String b) {
        return stripSlash(a).replace('/', '\0').compareTo(stripSlash(b).replace('/', '\0'));
    }

    private static String stripSlash(String name) {
        return name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
    }

    @Test
    void gnuTarExtractsWhatWeWriteToTheSameTree() throws IOException {
        Path tar = temp.resolve("ours.tar");
        try (OutputStream out = Files.newOutputStream(tar)) {
            LayerTar.write(source, out, WhiteoutFormat.OCI);
        }
        Path target = Files.createDirectories(temp.resolve("gnu-extracted"));
        Trees.run("tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "--same-permissions", "--same-owner",
                "-C", target.toString(), "-xf", tar.toString());
        assertEquals(Trees.snapshot(source, true), Trees.snapshot(target, true));
    }

    @Test
    void extractingAGnuTarArchiveGivesTheSameTree() throws IOException {
        for (String format : new String[] {"posix", "gnu"}) {
            Path tar = temp.resolve("gnu-" + format + ".tar");
            Trees.run("tar", "--format=" + format, "--xattrs", "--xattrs-include=*", "--numeric-owner",
                    "-C", source.toString(), "-cf", tar.toString(), ".");
            Path target = Files.createDirectories(temp.resolve("from-gnu-" + format));
            try (InputStream in = Files.newInputStream(tar)) {
                LayerTar.extract(in, target, WhiteoutFormat.OCI);
            }
            assertEquals(Trees.snapshot(source, true), Trees.snapshot(target, true), "GNU tar --format=" + format);
        }
    }

    @Test
    void sparseFilesFromGnuTarAreExtractedWhole() throws IOException {
        Path dir = Files.createDirectories(temp.resolve("sparse"));
        Trees.run("truncate", "-s", "5M", dir.resolve("holes").toString());
        try (var channel = java.nio.channels.FileChannel.open(dir.resolve("holes"), java.nio.file.StandardOpenOption.WRITE)) {
            channel.write(java.nio.ByteBuffer.wrap("middle".getBytes()), 2 * 1024 * 1024);
        }
        for (String format : new String[] {"posix", "gnu"}) {
            Path tar = temp.resolve("sparse-" + format + ".tar");
            Trees.run("tar", "--format=" + format, "--sparse", "-C", dir.toString(), "-cf", tar.toString(), ".");
            Path target = Files.createDirectories(temp.resolve("sparse-" + format));
            try (InputStream in = Files.newInputStream(tar)) {
                LayerTar.extract(in, target, WhiteoutFormat.OCI);
            }
            assertEquals(Trees.sha256(dir.resolve("holes")), Trees.sha256(target.resolve("holes")), format);
        }
    }

    @Test
    void binaryXattrValuesSurviveWhereCommonsCompressAloneWouldMangleThem() throws IOException {
        byte[] tar = write(source, WhiteoutFormat.OCI);
        // What Commons Compress itself reports for the value: not the bytes we wrote.
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            for (TarArchiveEntry entry = in.getNextEntry(); entry != null; entry = in.getNextEntry()) {
                if (entry.getName().equals("bin/setgid")) {
                    String value = entry.getExtraPaxHeader("SCHILY.xattr.security.capability");
                    byte[] utf8 = value.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    assertTrue(utf8.length != 20, "commons decoded the 20 capability bytes as " + utf8.length);
                }
            }
        }
        Path target = Files.createDirectories(temp.resolve("target"));
        LayerTar.extract(new ByteArrayInputStream(tar), target, WhiteoutFormat.OCI);
        assertEquals(BINARY_CAPABILITY, Trees.xattrsOf(target.resolve("bin/setgid")).get("security.capability"));
    }

    @Test
    void extractingOverExistingContentReplacesIt() throws IOException {
        Path target = Files.createDirectories(temp.resolve("target"));
        Files.createDirectories(target.resolve("etc/passwd/was-a-dir"));
        Files.writeString(target.resolve("bin"), "was a file");
        Files.writeString(target.resolve("kept"), "not in the tar");
        LayerTar.extract(new ByteArrayInputStream(write(source, WhiteoutFormat.OCI)), target, WhiteoutFormat.OCI);
        Map<String, String> snapshot = Trees.snapshot(target);
        snapshot.remove("kept");
        assertEquals(Trees.snapshot(source), snapshot);
        assertEquals("not in the tar", Files.readString(target.resolve("kept")));
    }
}
