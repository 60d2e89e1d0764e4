package io.berth.containers.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.spi.containers.Container.MountPoint;
import io.berth.spi.containers.PathStat;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContainerFilesTest {

    private static final long DIR = 1L << 31;
    private static final long SYMLINK = 1L << 27;

    @TempDir
    Path temp;

    private Path rootfs;
    private Path volume;
    private Path readOnly;
    private Path outside;
    private ContainerFiles files;

    /**
     * A container: /etc with files, /bin -> usr/bin, links that try to climb out, a volume at /data (with a link
     * to /etc/passwd inside it), a read-only bind at /ro and a tmpfs at /run. Beside the rootfs on the host lies
     * "outside", which nothing may reach.
     */
    @BeforeEach
    void container() throws IOException {
        rootfs = Files.createDirectories(temp.resolve("rootfs"));
        Files.createDirectories(rootfs.resolve("etc/dir"));
        Files.writeString(rootfs.resolve("etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
        Files.writeString(rootfs.resolve("etc/dir/a"), "a");
        Files.createDirectories(rootfs.resolve("usr/bin"));
        Files.writeString(rootfs.resolve("usr/bin/tool"), "#!/bin/sh\n");
        Files.createSymbolicLink(rootfs.resolve("bin"), Path.of("usr/bin"));
        Files.createSymbolicLink(rootfs.resolve("abs"), Path.of("/etc"));
        Files.createSymbolicLink(rootfs.resolve("climb"), Path.of("../../../../../../../../etc"));
        Files.createSymbolicLink(rootfs.resolve("loop"), Path.of("/loop"));
        for (String point : List.of("data", "ro", "run")) {
            Files.createDirectories(rootfs.resolve(point));
        }
        volume = Files.createDirectories(temp.resolve("volume"));
        Files.writeString(volume.resolve("v"), "in the volume");
        Files.createSymbolicLink(volume.resolve("up"), Path.of("/etc/passwd"));
        Files.createSymbolicLink(volume.resolve("parent"), Path.of(".."));
        readOnly = Files.createDirectories(temp.resolve("readonly"));
        outside = Files.createDirectories(temp.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "host secret");
        Files.createDirectories(temp.resolve("etc"));
        Files.writeString(temp.resolve("etc/passwd"), "host passwd");
        Files.createDirectories(temp.resolve("scratch"));
        files = new ContainerFiles(rootfs, List.of(
                new MountPoint("volume", "vol", volume.toString(), "/data", "local", "z", true, ""),
                new MountPoint("bind", null, readOnly.toString(), "/ro", null, "ro", false, "rprivate"),
                new MountPoint("tmpfs", null, "", "/run", null, "", true, "")), false, temp.resolve("scratch"));
    }

    private Map<String, String> copyFrom(String path) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        files.copyFrom(path, out);
        return Tars.read(out.toByteArray());
    }

    // --- stat -----------------------------------------------------------------------------------

    @Test
    void statGivesGoFileModesAndResolvedLinkTargets() throws IOException {
        Files.setPosixFilePermissions(rootfs.resolve("etc/dir"), PosixFilePermissions.fromString("rwxr-x---"));
        PathStat dir = files.stat("/etc/dir");
        assertEquals("dir", dir.name());
        assertEquals(DIR | 0750, dir.mode());
        Instant.parse(dir.mtime());
        assertEquals("", dir.linkTarget());

        PathStat file = files.stat("/etc/passwd");
        assertEquals(new PathStat("passwd", 26, 0644, file.mtime(), ""), file);

        PathStat link = files.stat("/bin");
        assertEquals(SYMLINK | 0777, link.mode());
        assertEquals("/usr/bin", link.linkTarget());
        assertEquals(DIR | 0755, files.stat("/bin/").mode(), "a trailing slash follows the link");
        assertEquals("/etc", files.stat("/climb").linkTarget(), "'..' stops at the container's root");
        assertEquals("/etc/passwd", files.stat("/data/up").linkTarget());

        assertEquals("/", files.stat("/").name());
        assertEquals(".", files.stat("/etc/.").name());
        Files.setAttribute(rootfs.resolve("usr/bin/tool"), "unix:mode", 04755);
        assertEquals((1L << 23) | 0755, files.stat("/bin/tool").mode());
        Files.createDirectories(rootfs.resolve("tmp"));
        Files.setAttribute(rootfs.resolve("tmp"), "unix:mode", 01777);
        assertEquals(DIR | (1L << 20) | 0777, files.stat("/etc/../tmp/../run/../tmp/.").mode());
    }

    @Test
    void missingPathsAndFilesWithSlashesAreErrors() {
        NoSuchElementException missing = assertThrows(NoSuchElementException.class, () -> files.stat("/nope"));
        assertEquals("Could not find the file /nope in container", missing.getMessage());
        assertThrows(NoSuchElementException.class, () -> copyFrom("/etc/nope"));
        assertThrows(NoSuchElementException.class, () -> copyFrom("/nope/"));
        assertEquals("/etc/passwd/: not a directory",
                assertThrows(IllegalArgumentException.class, () -> copyFrom("/etc/passwd/")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> copyFrom("/etc/passwd/."));
        assertTrue(assertThrows(IOException.class, () -> files.stat("/loop/x")).getMessage()
                .contains("too many levels of symbolic links"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> files.stat("/run/x")).getMessage()
                .contains("tmpfs mount /run"));
    }

    // --- copyFrom: Docker's cp rules ------------------------------------------------------------

    @Test
    void copyFromFollowsDockersPathRules() throws IOException {
        assertEquals(Map.of("passwd", "root:x:0:0::/root:/bin/sh\n"), copyFrom("/etc/passwd"));
        Map<String, String> etc = Map.of("etc/", "", "etc/dir/", "", "etc/dir/a", "a",
                "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
        assertEquals(etc, copyFrom("/etc"));
        assertEquals(etc, copyFrom("/etc/"), "SRC/ is the directory itself too");
        assertEquals(etc, copyFrom("etc"), "relative paths start at /");
        assertEquals(List.of("etc/", "etc/dir/", "etc/dir/a", "etc/passwd"), new ArrayList<>(copyFrom("/etc").keySet()),
                "directories before their content, sorted");
        assertEquals(Map.of("./", "", "./dir/", "", "./dir/a", "a", "./passwd", "root:x:0:0::/root:/bin/sh\n"),
                copyFrom("/etc/."), "SRC/. : the content, under '.'");
        assertEquals(Map.of("bin", "-> usr/bin"), copyFrom("/bin"), "a link without a slash is the link");
        assertEquals(Map.of("bin/", "", "bin/tool", "#!/bin/sh\n"), copyFrom("/bin/"),
                "with a slash, its target, under the name asked for");
        assertEquals(Map.of("tool", "#!/bin/sh\n"), copyFrom("/bin/tool"));
    }

    @Test
    void copyFromCrossesIntoMountsAsTheContainerSeesThem() throws IOException {
        assertEquals(Map.of("data/", "", "data/parent", "-> ..", "data/up", "-> /etc/passwd", "data/v",
                "in the volume"), copyFrom("/data"));
        Map<String, String> all = copyFrom("/");
        assertEquals("in the volume", all.get("./data/v"));
        assertEquals("root:x:0:0::/root:/bin/sh\n", all.get("./etc/passwd"));
        assertEquals("", all.get("./run/"), "a tmpfs mount point is its empty directory");
    }

    @Test
    void linksNeverLeadOutOfTheContainer() throws IOException {
        String image = "root:x:0:0::/root:/bin/sh\n";
        assertEquals(Map.of("passwd", image), copyFrom("/abs/passwd"));
        assertEquals(Map.of("passwd", image), copyFrom("/climb/passwd"));
        assertEquals(Map.of("passwd", image), copyFrom("/data/parent/etc/passwd"), "'..' of a mount is its parent in the container");
        assertEquals(Map.of("passwd", image), copyFrom("/data/parent/data/parent/climb/passwd"));
        assertEquals(Map.of("./", "", "./passwd", image, "./dir/", "", "./dir/a", "a"), copyFrom("/data/up/../."));
        Files.createSymbolicLink(rootfs.resolve("etc/hostlink"), outside.resolve("secret"));
        assertThrows(NoSuchElementException.class, () -> copyFrom("/etc/hostlink/"),
                "an absolute link to a host path means that path in the container");
    }

    // --- copyTo ---------------------------------------------------------------------------------

    @Test
    void copyToExtractsIntoTheDirectoryKeepingModesAndOwners() throws IOException {
        byte[] tar = new Tars().dir("new").file("new/f", "hello", 0640, 1000, 1001).symlink("new/l", "/etc/passwd")
                .hardlink("new/h", "new/f").file("top", "t").bytes();
        files.copyTo("/etc", new ByteArrayInputStream(tar), false);
        Path f = rootfs.resolve("etc/new/f");
        assertEquals("hello", Files.readString(f));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        assertEquals(1000, Files.getAttribute(f, "unix:uid"));
        assertEquals(1001, Files.getAttribute(f, "unix:gid"));
        assertEquals(Path.of("/etc/passwd"), Files.readSymbolicLink(rootfs.resolve("etc/new/l")));
        assertEquals(Files.getAttribute(f, "unix:ino"), Files.getAttribute(rootfs.resolve("etc/new/h"), "unix:ino"));
        assertEquals("t", Files.readString(rootfs.resolve("etc/top")));
        assertEquals(List.of(), leftoverSpools());
    }

    @Test
    void copyToReachesMountsAndFollowsTheDestinationLinkInside() throws IOException {
        files.copyTo("/data", new ByteArrayInputStream(new Tars().file("x", "to volume").bytes()), false);
        assertEquals("to volume", Files.readString(volume.resolve("x")));
        files.copyTo("/climb", new ByteArrayInputStream(new Tars().file("y", "to etc").bytes()), false);
        assertEquals("to etc", Files.readString(rootfs.resolve("etc/y")));
        assertFalse(Files.exists(temp.resolve("etc/y")), "the host's etc beside the rootfs is not touched");
        files.copyTo("/data/parent/usr/", new ByteArrayInputStream(new Tars().file("z", "z").bytes()), false);
        assertEquals("z", Files.readString(rootfs.resolve("usr/z")));
    }

    @Test
    void copyToRefusesWhatDockerRefuses() throws IOException {
        byte[] tar = new Tars().file("x", "x").bytes();
        assertEquals("Could not find the file /nope in container", assertThrows(NoSuchElementException.class,
                () -> files.copyTo("/nope", new ByteArrayInputStream(tar), false)).getMessage());
        assertEquals("extraction point is not a directory", assertThrows(IllegalArgumentException.class,
                () -> files.copyTo("/etc/dir/a", new ByteArrayInputStream(tar), false)).getMessage());
        assertEquals("mounted volume is marked read-only", assertThrows(IllegalStateException.class,
                () -> files.copyTo("/ro", new ByteArrayInputStream(tar), false)).getMessage());
        ContainerFiles readOnlyRoot = new ContainerFiles(rootfs, List.of(
                new MountPoint("volume", "vol", volume.toString(), "/data", "local", "z", true, "")), true,
                temp.resolve("scratch"));
        assertEquals("container rootfs is marked read-only", assertThrows(IllegalStateException.class,
                () -> readOnlyRoot.copyTo("/etc", new ByteArrayInputStream(tar), false)).getMessage());
        readOnlyRoot.copyTo("/data", new ByteArrayInputStream(tar), false); // a writable volume still is
        assertTrue(Files.exists(volume.resolve("x")));
        assertFalse(Files.exists(readOnly.resolve("x")));
        assertFalse(Files.exists(rootfs.resolve("etc/x")));
    }

    @Test
    void noOverwriteDirNonDir() throws IOException {
        byte[] fileOverDir = new Tars().file("dir", "now a file").bytes();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> files.copyTo("/etc", new ByteArrayInputStream(fileOverDir), true));
        assertEquals("cannot overwrite directory \"/etc/dir\" with non-directory \"/etc\"", e.getMessage());
        byte[] dirOverFile = new Tars().dir("passwd").bytes();
        assertEquals("cannot overwrite non-directory \"/etc/passwd\" with directory \"/etc\"",
                assertThrows(IllegalArgumentException.class,
                        () -> files.copyTo("/etc", new ByteArrayInputStream(dirOverFile), true)).getMessage());
        assertTrue(Files.isDirectory(rootfs.resolve("etc/dir")));
        assertTrue(Files.isRegularFile(rootfs.resolve("etc/passwd")));

        files.copyTo("/etc", new ByteArrayInputStream(fileOverDir), false);
        assertEquals("now a file", Files.readString(rootfs.resolve("etc/dir")), "without the flag it is replaced");
    }

    @Test
    void hostileTarsAreRefusedWholeAndWriteNothing() throws IOException {
        Map<String, byte[]> hostile = new java.util.LinkedHashMap<>();
        Map<String, String> why = new java.util.HashMap<>();
        why.put("'..' out of the destination", "climbs out of the destination");
        hostile.put("'..' out of the destination", new Tars().file("ok", "x").file("../../../outside/evil", "x").bytes());
        why.put("absolute name", "has an absolute path");
        hostile.put("absolute name", new Tars().file("ok", "x").file("/outside/evil", "x").bytes());
        why.put("through an existing link", "goes through 'bin', which is a symbolic link");
        hostile.put("through an existing link", new Tars().file("ok", "x").file("bin/evil", "x").bytes());
        why.put("through an existing absolute link", "goes through 'abs', which is a symbolic link");
        hostile.put("through an existing absolute link", new Tars().file("ok", "x").file("abs/evil", "x").bytes());
        why.put("through a link it made", "which this tar makes a symbolic link");
        hostile.put("through a link it made", new Tars().symlink("l", "/").file("l/outside/evil", "x").bytes());
        why.put("through a relative link it made", "which this tar makes a symbolic link");
        hostile.put("through a relative link it made", new Tars().symlink("l", "../../../..").file("l/evil", "x").bytes());
        why.put("hard link to an absolute path", "hard link to the absolute path");
        hostile.put("hard link to an absolute path", new Tars().file("ok", "x").hardlink("h", "/etc/passwd").bytes());
        why.put("hard link out", "climbs out of the destination");
        hostile.put("hard link out", new Tars().file("ok", "x").hardlink("h", "../../outside/secret").bytes());
        why.put("hard link through a link", "goes through 'abs', which is a symbolic link");
        hostile.put("hard link through a link", new Tars().file("ok", "x").hardlink("h", "abs/passwd").bytes());
        why.put("hard link to a link it made", "is a hard link to 'l', which is not a file");
        hostile.put("hard link to a link it made", new Tars().symlink("l", "/etc/passwd").hardlink("h", "l").bytes());
        why.put("hard link to nothing", "is a hard link to 'missing', which is not a file");
        hostile.put("hard link to nothing", new Tars().file("ok", "x").hardlink("h", "missing").bytes());
        why.put("device node", "device nodes are not copied");
        hostile.put("device node", new Tars().file("ok", "x").charDevice("mem", 1, 1).bytes());
        why.put("whiteout", "starting with .wh.");
        hostile.put("whiteout", new Tars().file("ok", "x").file(".wh.passwd", "").bytes());
        why.put("into a mount below", "lies in the mount at /data");
        hostile.put("into a mount below", new Tars().file("ok", "x").file("data/evil", "x").bytes());
        why.put("hard link into a mount below", "lies in the mount at /data");
        hostile.put("hard link into a mount below", new Tars().file("ok", "x").hardlink("h", "data/v").bytes());
        byte[] whole = new Tars().file("ok", "x").file("second", "y").bytes();
        why.put("no end-of-archive marker", "no end-of-archive marker");
        hostile.put("no end-of-archive marker", Arrays.copyOf(whole, 2048));
        why.put("cut in the middle of a file", "Truncated TAR archive");
        hostile.put("cut in the middle of a file", Arrays.copyOf(new Tars().file("big", "z".repeat(5000)).bytes(), 1536));
        why.put("not a tar", "malformed tar at its first entry");
        hostile.put("not a tar", "this is not a tar archive at all, just text".repeat(20).getBytes());

        List<String> before = tree(temp);
        for (Map.Entry<String, byte[]> c : hostile.entrySet()) {
            IOException e = assertThrows(IOException.class,
                    () -> files.copyTo("/", new ByteArrayInputStream(c.getValue()), false), c.getKey());
            assertTrue(e.getMessage().contains(why.get(c.getKey())), c.getKey() + ": " + e.getMessage());
            assertEquals(before, tree(temp), c.getKey() + ": " + e.getMessage());
        }
        assertEquals("host secret", Files.readString(outside.resolve("secret")));
    }

    @Test
    void linksInTheTarAreMadeAsLinksNotFollowed() throws IOException {
        files.copyTo("/etc", new ByteArrayInputStream(new Tars().symlink("out", "../../outside/secret")
                .symlink("abs", outside.resolve("secret").toString()).bytes()), false);
        assertTrue(Files.isSymbolicLink(rootfs.resolve("etc/out")));
        // Copying into the link's path again replaces the link, never writes through it.
        files.copyTo("/etc", new ByteArrayInputStream(new Tars().file("out", "replaced").bytes()), false);
        assertEquals("replaced", Files.readString(rootfs.resolve("etc/out")));
        assertEquals("host secret", Files.readString(outside.resolve("secret")));
        assertThrows(NoSuchElementException.class, () -> files.copyTo("/etc/abs/", new ByteArrayInputStream(new byte[0]), false),
                "the absolute link means the container's path, which does not exist");
    }

    // --- export ---------------------------------------------------------------------------------

    @Test
    void exportIsTheRootfsWithoutMounts() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        files.export(out);
        Map<String, String> entries = Tars.read(out.toByteArray());
        assertEquals("root:x:0:0::/root:/bin/sh\n", entries.get("etc/passwd"));
        assertEquals("-> usr/bin", entries.get("bin"));
        assertEquals("", entries.get("data/"), "the mount point is there, empty");
        assertFalse(entries.containsKey("data/v"), "the volume's content is not");
        assertTrue(entries.keySet().stream().noneMatch(name -> name.startsWith("/") || name.startsWith("..")));
    }

    @Test
    void measureCopyFromAndExportOf2000SmallFiles() throws IOException {
        Path tree = Files.createDirectories(rootfs.resolve("many"));
        for (int d = 0; d < 20; d++) {
            Path dir = Files.createDirectories(tree.resolve("d" + d));
            for (int f = 0; f < 100; f++) {
                Files.writeString(dir.resolve("f" + f), "file " + d + "/" + f + "\n".repeat(f));
            }
        }
        CountingOutput sink = new CountingOutput();
        files.copyFrom("/many", sink); // warm-up
        long copyStart = System.nanoTime();
        sink = new CountingOutput();
        files.copyFrom("/many", sink);
        long copyNanos = System.nanoTime() - copyStart;
        long exportStart = System.nanoTime();
        CountingOutput exported = new CountingOutput();
        files.export(exported);
        long exportNanos = System.nanoTime() - exportStart;
        ByteArrayOutputStream check = new ByteArrayOutputStream();
        files.copyFrom("/many", check);
        assertEquals(2021, Tars.read(check.toByteArray()).size(), "2000 files and 21 directories");
        System.out.printf("copyFrom of 2000 small files: %.1f ms, %d bytes; export of the rootfs: %.1f ms, %d bytes%n",
                copyNanos / 1e6, sink.count, exportNanos / 1e6, exported.count);
    }

    private static final class CountingOutput extends OutputStream {
        long count;

        @Override
        public void write(int b) {
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            count += len;
        }
    }

    /** Every path below dir with its type, size and mode (links not followed), so any write shows. */
    private static List<String> tree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            List<String> lines = new ArrayList<>();
            for (Path p : walk.sorted().toList()) {
                if (p.toString().contains("/scratch")) {
                    continue;
                }
                lines.add(dir.relativize(p) + " " + Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS)
                        + " " + Files.getAttribute(p, "size", LinkOption.NOFOLLOW_LINKS) + " " + Files.getAttribute(p, "unix:ctime", LinkOption.NOFOLLOW_LINKS));
            }
            return lines;
        }
    }

    private List<String> leftoverSpools() throws IOException {
        try (Stream<Path> list = Files.list(temp.resolve("scratch"))) {
            return list.map(Path::toString).toList();
        }
    }
}
