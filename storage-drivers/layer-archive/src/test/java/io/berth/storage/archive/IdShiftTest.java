package io.berth.storage.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.spi.idmap.IdMap;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Needs root (chown), as the whole build does. */
class IdShiftTest {

    private static final IdMap MAP = new IdMap(List.of(new IdMap.Range(0, 100000, 65536)),
            List.of(new IdMap.Range(0, 200000, 65536)));

    @TempDir
    Path dir;

    @Test
    void aTreeGetsTheHostOwnersOfItsOwnersOnceEvenThroughHardLinks() throws IOException {
        Path root = Files.createDirectory(dir.resolve("root"));
        Path file = Files.writeString(root.resolve("file"), "x");
        chown(file, 1000, 50);
        Path setuid = Files.writeString(root.resolve("su"), "y");
        Files.setAttribute(setuid, "unix:mode", 04755);
        Files.createLink(root.resolve("link-to-file"), file);
        Files.createSymbolicLink(root.resolve("sym"), Path.of("/nowhere"));

        IdShift.shiftTree(root, MAP);

        assertOwner(root, 100000, 200000);
        assertOwner(file, 101000, 200050); // once, though met twice
        assertOwner(root.resolve("sym"), 100000, 200000);
        assertOwner(setuid, 100000, 200000);
        assertEquals(04755, (Integer) Files.getAttribute(setuid, "unix:mode") & 07777, "the setuid bit is back");
    }

    @Test
    void anOwnerOutsideTheMapChangesNothing() throws IOException {
        Path root = Files.createDirectory(dir.resolve("root"));
        Path inside = Files.writeString(root.resolve("a"), "x");
        chown(Files.writeString(root.resolve("b"), "x"), 70000, 0);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IdShift.shiftTree(root, MAP));

        assertTrue(e.getMessage().startsWith("b: container uid 70000 cannot be mapped"), e.getMessage());
        assertOwner(inside, 0, 0);
    }

    @Test
    void tarsGoBetweenHostAndContainerOwners() throws IOException {
        byte[] hostTar = tar(Map.of("a", new int[] {101000, 200050}, "b", new int[] {5, 5}));

        Map<String, int[]> seen = owners(IdShift.toContainerIds(new ByteArrayInputStream(hostTar), MAP));

        assertEquals(List.of(1000, 50), List.of(seen.get("a")[0], seen.get("a")[1]));
        assertEquals(List.of(65534, 65534), List.of(seen.get("b")[0], seen.get("b")[1]), "unmapped: overflow id");

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream shifting = IdShift.toContainerIds(out, MAP)) {
            shifting.write(hostTar);
        }
        assertEquals(1000, owners(new ByteArrayInputStream(out.toByteArray())).get("a")[0]);

        byte[] containerTar = tar(Map.of("c", new int[] {7, 8}));
        int[] host = owners(IdShift.toHostIds(new ByteArrayInputStream(containerTar), MAP)).get("c");
        assertEquals(List.of(100007, 200008), List.of(host[0], host[1]));

        byte[] outside = tar(Map.of("d", new int[] {70000, 0}));
        IOException e = assertThrows(IOException.class,
                () -> owners(IdShift.toHostIds(new ByteArrayInputStream(outside), MAP)));
        assertTrue(e.getMessage().contains("d: container uid 70000 cannot be mapped"), e.getMessage());
    }

    private static byte[] tar(Map<String, int[]> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            out.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            for (Map.Entry<String, int[]> file : files.entrySet()) {
                TarArchiveEntry entry = new TarArchiveEntry(file.getKey());
                entry.setSize(3);
                entry.setUserId(file.getValue()[0]);
                entry.setGroupId(file.getValue()[1]);
                out.putArchiveEntry(entry);
                out.write("abc".getBytes());
                out.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    private static Map<String, int[]> owners(InputStream tar) throws IOException {
        Map<String, int[]> owners = new HashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(tar)) {
            TarArchiveEntry entry;
            while ((entry = in.getNextEntry()) != null) {
                assertEquals("abc", new String(in.readAllBytes()), "data kept");
                owners.put(entry.getName(), new int[] {(int) entry.getLongUserId(), (int) entry.getLongGroupId()});
            }
        }
        return owners;
    }

    private static void chown(Path path, int uid, int gid) throws IOException {
        Files.setAttribute(path, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(path, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
    }

    private static void assertOwner(Path path, int uid, int gid) throws IOException {
        assertEquals(uid, Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS), path + " uid");
        assertEquals(gid, Files.getAttribute(path, "unix:gid", LinkOption.NOFOLLOW_LINKS), path + " gid");
    }
}
