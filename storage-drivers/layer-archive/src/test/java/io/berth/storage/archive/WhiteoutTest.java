package io.berth.storage.archive;

import static io.berth.storage.archive.Tars.dir;
import static io.berth.storage.archive.Tars.file;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whiteouts and opaque directories, in both on-disk formats. */
class WhiteoutTest {

    @TempDir
    Path temp;
    Path view;

    @BeforeEach
    void parentContent() throws IOException {
        view = Files.createDirectories(temp.resolve("view"));
        Files.createDirectories(view.resolve("gone-dir/deeper"));
        Files.writeString(view.resolve("gone-dir/deeper/inside"), "x");
        Files.writeString(view.resolve("gone-file"), "x");
        Files.createSymbolicLink(view.resolve("gone-link"), Path.of("/etc"));
        Files.createDirectories(view.resolve("opaque/sub"));
        Files.writeString(view.resolve("opaque/old"), "old");
        Files.writeString(view.resolve("opaque/sub/old"), "old");
        Files.writeString(view.resolve("opaque/replaced"), "old");
        Files.createDirectories(view.resolve("late-opaque"));
        Files.writeString(view.resolve("late-opaque/old"), "old");
        Files.writeString(view.resolve("kept"), "kept");
    }

    private static final byte[] LAYER = Tars.of(
            file(".wh.gone-file", ""),
            file(".wh.gone-dir", ""),
            file(".wh.gone-link", ""),
            file(".wh.never-existed", ""),
            dir("opaque/"),
            file("opaque/.wh..wh..opq", ""),
            file("opaque/new", "new"),
            dir("opaque/sub/"),
            file("opaque/sub/new", "new"),
            file("opaque/replaced", "new"),
            dir("late-opaque/"),
            file("late-opaque/new", "new"),
            file("late-opaque/.wh..wh..opq", ""),
            file("added", "added"),
            file(".wh.added", ""));

    @Test
    void ociWhiteoutsDeleteAndOpaqueDirectoriesHideTheParentsContent() throws IOException {
        LayerTar.extract(new ByteArrayInputStream(LAYER), view, WhiteoutFormat.OCI);
        for (String gone : List.of("gone-file", "gone-dir", "gone-link", "opaque/old", "opaque/sub/old", "late-opaque/old")) {
            assertFalse(Files.exists(view.resolve(gone), LinkOption.NOFOLLOW_LINKS), gone);
        }
        assertEquals("new", Files.readString(view.resolve("opaque/new")));
        assertEquals("new", Files.readString(view.resolve("opaque/sub/new")));
        assertEquals("new", Files.readString(view.resolve("opaque/replaced")));
        assertEquals("new", Files.readString(view.resolve("late-opaque/new")));
        assertEquals("kept", Files.readString(view.resolve("kept")));
        assertEquals("added", Files.readString(view.resolve("added")), "a whiteout hides only the parents' content");
        assertFalse(Files.exists(view.resolve(".wh.gone-file")), "no whiteout files are left behind");
        assertFalse(Files.exists(view.resolve("opaque/.wh..wh..opq")));
        assertTrue(Files.exists(Path.of("/etc/passwd")), "a whiteout for a symlink removes the link only");
    }

    @Test
    void overlayWhiteoutsBecomeDevicesAndOpaqueDirectoriesAnXattr() throws IOException {
        Path upper = Files.createDirectories(temp.resolve("upper"));
        LayerTar.extract(new ByteArrayInputStream(LAYER), upper, WhiteoutFormat.OVERLAY);
        for (String whiteout : List.of("gone-file", "gone-dir", "gone-link", "never-existed")) {
            Map<String, Object> unix = Files.readAttributes(upper.resolve(whiteout), "unix:mode,rdev", LinkOption.NOFOLLOW_LINKS);
            assertEquals(0020000, (Integer) unix.get("mode") & 0170000, whiteout + " is a character device");
            assertEquals(0L, unix.get("rdev"), whiteout + " is device 0/0");
        }
        assertEquals("0x79", Trees.xattrsOf(upper.resolve("opaque")).get("trusted.overlay.opaque"));
        assertEquals("0x79", Trees.xattrsOf(upper.resolve("late-opaque")).get("trusted.overlay.opaque"));
        assertEquals(null, Trees.xattrsOf(upper.resolve("opaque/sub")).get("trusted.overlay.opaque"));
        assertEquals("new", Files.readString(upper.resolve("opaque/new")));
        assertFalse(Files.exists(upper.resolve("opaque/.wh..wh..opq")));
        assertFalse(Files.exists(upper.resolve(".wh.gone-file")));
    }

    @Test
    void overlayMarkersAreWrittenAsOciWhiteouts() throws IOException {
        Path upper = Files.createDirectories(temp.resolve("upper"));
        Files.createDirectories(upper.resolve("opaque"));
        Files.writeString(upper.resolve("opaque/new"), "new");
        Trees.setXattr(upper.resolve("opaque"), "trusted.overlay.opaque", "y");
        Trees.setXattr(upper.resolve("opaque"), "user.kept", "yes");
        Trees.run("mknod", "-m", "600", upper.resolve("gone-file").toString(), "c", "0", "0"); // as Docker writes whiteouts
        Files.setAttribute(upper.resolve("gone-file"), "unix:uid", 7, LinkOption.NOFOLLOW_LINKS);
        Trees.run("mknod", upper.resolve("real-device").toString(), "c", "1", "3");

        byte[] tar = RoundTripTest.write(upper, WhiteoutFormat.OVERLAY);
        List<String> names = new ArrayList<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            for (TarArchiveEntry entry = in.getNextEntry(); entry != null; entry = in.getNextEntry()) {
                names.add(entry.getName());
                if (entry.getName().equals(".wh.gone-file")) {
                    assertTrue(entry.isFile());
                    assertEquals(0, entry.getSize());
                    assertEquals(7, entry.getLongUserId());
                }
                if (entry.getName().equals("opaque/")) {
                    assertEquals("yes", entry.getExtraPaxHeader("SCHILY.xattr.user.kept"));
                    assertEquals(null, entry.getExtraPaxHeader("SCHILY.xattr.trusted.overlay.opaque"));
                }
                if (entry.getName().equals("real-device")) {
                    assertTrue(entry.isCharacterDevice());
                }
            }
        }
        assertEquals(List.of(".wh.gone-file", "opaque/", "opaque/.wh..wh..opq", "opaque/new", "real-device"), names);

        // The same tar in OCI form over a full view hides the parents' content ...
        LayerTar.extract(new ByteArrayInputStream(tar), view, WhiteoutFormat.OCI);
        assertFalse(Files.exists(view.resolve("gone-file")));
        assertFalse(Files.exists(view.resolve("opaque/old")));
        assertEquals("new", Files.readString(view.resolve("opaque/new")));
        // ... and back in overlay form gives the same markers.
        Path again = Files.createDirectories(temp.resolve("again"));
        LayerTar.extract(new ByteArrayInputStream(tar), again, WhiteoutFormat.OVERLAY);
        assertEquals(Trees.snapshot(upper), Trees.snapshot(again));
    }

    @Test
    void inOciFormatOverlayLookalikesAreOrdinaryFiles() throws IOException {
        Path dir = Files.createDirectories(temp.resolve("dir"));
        Trees.run("mknod", dir.resolve("zero").toString(), "c", "0", "0");
        byte[] tar = RoundTripTest.write(dir, WhiteoutFormat.OCI);
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            TarArchiveEntry entry = in.getNextEntry();
            assertEquals("zero", entry.getName());
            assertTrue(entry.isCharacterDevice());
        }
    }
}
