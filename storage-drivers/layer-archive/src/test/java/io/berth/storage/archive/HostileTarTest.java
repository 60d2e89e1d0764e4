package io.berth.storage.archive;

import static io.berth.storage.archive.Tars.charDevice;
import static io.berth.storage.archive.Tars.dir;
import static io.berth.storage.archive.Tars.file;
import static io.berth.storage.archive.Tars.hardlink;
import static io.berth.storage.archive.Tars.symlink;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Layer tars are hostile: refuse with a useful message, and write nothing outside the target. */
class HostileTarTest {

    @TempDir
    Path temp;

    /** The extraction target, two levels down so that "../../x" stays inside temp. */
    Path layer;
    /** A sentinel sibling that must stay as it is. */
    Path outside;
    Path sentinel;

    @BeforeEach
    void setUp() throws IOException {
        layer = Files.createDirectories(temp.resolve("layers/layer"));
        outside = Files.createDirectories(temp.resolve("outside"));
        sentinel = Files.writeString(outside.resolve("sentinel"), "untouched");
        Files.setLastModifiedTime(outside, FileTime.fromMillis(1_000_000_000_000L));
    }

    private LayerArchiveException refused(byte[] tar, String expectedInMessage) {
        LayerArchiveException e = assertThrows(LayerArchiveException.class,
                () -> LayerTar.extract(new ByteArrayInputStream(tar), layer, WhiteoutFormat.OCI));
        assertTrue(e.getMessage().contains(expectedInMessage), "message: " + e.getMessage());
        return e;
    }

    private void assertNothingOutside() throws IOException {
        assertEquals(List.of("layers", "outside"), Trees.list(temp));
        assertEquals(List.of("layer"), Trees.list(temp.resolve("layers")));
        assertEquals(List.of("sentinel"), Trees.list(outside));
        assertEquals("untouched", Files.readString(sentinel));
        assertEquals(1, (Integer) Files.getAttribute(sentinel, "unix:nlink"));
        assertEquals(1_000_000_000_000L, Files.getLastModifiedTime(outside).toMillis());
        assertEquals(Map.of(), Trees.xattrsOf(outside));
        assertEquals(Map.of(), Trees.xattrsOf(sentinel));
    }

    @Test
    void dotDotThatEscapesIsRefused() throws IOException {
        refused(Tars.of(file("../escape", "x")), "'../escape'");
        refused(Tars.of(file("../../outside/escape", "x")), "climbs above");
        refused(Tars.of(file("a/../../x", "x")), "'a/../../x'");
        refused(Tars.of(dir("ok/"), file("ok/../../../outside/sentinel", "overwritten")), "ok/../../../outside/sentinel");
        assertNothingOutside();
    }

    @Test
    void dotDotThatStaysInsideIsCleaned() throws IOException {
        LayerTar.extract(new ByteArrayInputStream(Tars.of(file("a/../b", "inside"), file("./c/./d", "also"))),
                layer, WhiteoutFormat.OCI);
        assertEquals("inside", Files.readString(layer.resolve("b")));
        assertEquals("also", Files.readString(layer.resolve("c/d")));
        assertFalse(Files.exists(layer.resolve("a")));
        assertNothingOutside();
    }

    @Test
    void absolutePathsAreRefused() throws IOException {
        refused(Tars.of(file("/etc/x", "x")), "absolute path");
        refused(Tars.of(file(outside.resolve("absolute").toString(), "x")), "absolute path");
        refused(Tars.of(dir("/")), "absolute path");
        assertFalse(Files.exists(Path.of("/etc/x")));
        assertNothingOutside();
    }

    @Test
    void aSymlinkToRootIsNeverFollowed() throws IOException {
        LayerArchiveException e = refused(Tars.of(symlink("link", "/"), file("link/file", "x")), "'link/file'");
        assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
        assertFalse(Files.exists(Path.of("/file")));
        refused(Tars.of(symlink("link", outside.toString()), file("link/file", "x")), "symbolic link");
        refused(Tars.of(symlink("link", outside.toString()), dir("link/sub/")), "symbolic link");
        assertNothingOutside();
    }

    @Test
    void aSymlinkCreatedEarlierInTheSameTarIsNeverFollowed() throws IOException {
        refused(Tars.of(symlink("up", "../../outside"), file("up/sentinel", "overwritten")), "'up/sentinel'");
        refused(Tars.of(dir("d/"), symlink("d/up", "../../../outside"), file("d/up/new", "x")), "'d/up/new'");
        // A directory replaced by a symlink later in the same tar.
        refused(Tars.of(dir("d/"), file("d/f", "x"), symlink("d", outside.toString()), file("d/g", "x")), "'d/g'");
        assertNothingOutside();
    }

    @Test
    void aSymlinkAlreadyInTheDirectoryIsNeverFollowed() throws IOException {
        Files.createSymbolicLink(layer.resolve("existing"), outside);
        Files.createDirectories(layer.resolve("real"));
        Files.createSymbolicLink(layer.resolve("real/nested"), Path.of("../../../outside"));
        refused(Tars.of(file("existing/sentinel", "overwritten")), "'existing/sentinel'");
        refused(Tars.of(file("real/nested/new", "x")), "'real/nested'");
        refused(Tars.of(Tars.file("existing/.wh.sentinel", "")), "symbolic link");
        refused(Tars.of(Tars.file("existing/.wh..wh..opq", "")), "symbolic link");
        refused(Tars.of(charDevice("existing/null", 1, 3)), "symbolic link");
        assertNothingOutside();
    }

    @Test
    void entriesReplaceSymlinksInsteadOfWritingThroughThem() throws IOException {
        Files.createSymbolicLink(layer.resolve("file"), sentinel);
        Files.createSymbolicLink(layer.resolve("dir"), outside);
        Files.createSymbolicLink(layer.resolve("node"), sentinel);
        LayerTar.extract(new ByteArrayInputStream(Tars.of(
                file("file", "new content"), dir("dir/"), charDevice("node", 1, 3))), layer, WhiteoutFormat.OCI);
        assertEquals("new content", Files.readString(layer.resolve("file")));
        assertTrue(Files.isDirectory(layer.resolve("dir"), LinkOption.NOFOLLOW_LINKS));
        assertEquals(0020000, (Integer) Files.getAttribute(layer.resolve("node"), "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0170000);
        assertNothingOutside();
    }

    @Test
    void hardlinksOutOfTheDirectoryAreRefused() throws IOException {
        refused(Tars.of(hardlink("hard", "../../outside/sentinel")), "'hard'");
        refused(Tars.of(hardlink("hard", sentinel.toString())), "absolute path");
        refused(Tars.of(hardlink("hard", "/etc/passwd")), "absolute path");
        // through or to a symbolic link
        refused(Tars.of(symlink("link", outside.toString()), hardlink("hard", "link/sentinel")), "symbolic link");
        refused(Tars.of(symlink("link", sentinel.toString()), hardlink("hard", "link")), "symbolic link");
        refused(Tars.of(hardlink("hard", "missing")), "does not exist");
        assertNothingOutside();
    }

    @Test
    void whiteoutsThatEscapeAreRefused() throws IOException {
        refused(Tars.of(file(".wh...", "")), "'.wh...'");
        refused(Tars.of(file(".wh..", "")), "'.wh..'");
        refused(Tars.of(file("ok", "fine"), file("../.wh.outside", "")), "'../.wh.outside'");
        refused(Tars.of(file("a/../../.wh.outside", "")), "climbs above");
        for (WhiteoutFormat format : WhiteoutFormat.values()) {
            assertThrows(LayerArchiveException.class, () -> LayerTar.extract(
                    new ByteArrayInputStream(Tars.of(file("sub/.wh...", ""))), layer, format));
        }
        assertNothingOutside();
    }

    @Test
    void deferredDirectoryTimesAndXattrsNeverGoThroughALaterSymlink() throws IOException {
        byte[] tar = Tars.of(
                dir("d/", h -> {
                    h.setModTime(FileTime.fromMillis(0));
                    h.addPaxHeader("SCHILY.xattr.user.planted", "x");
                }),
                file("d/f", "x", h -> h.addPaxHeader("SCHILY.xattr.user.planted", "y")),
                symlink("d", outside.toString()));
        LayerTar.extract(new ByteArrayInputStream(tar), layer, WhiteoutFormat.OCI);
        assertTrue(Files.isSymbolicLink(layer.resolve("d")));
        assertNothingOutside();
    }

    @Test
    void overlayInternalXattrsAreNeverTakenFromATar() throws IOException {
        byte[] tar = Tars.of(dir("d/", h -> {
            h.addPaxHeader("SCHILY.xattr.trusted.overlay.redirect", "/etc");
            h.addPaxHeader("SCHILY.xattr.trusted.overlay.opaque", "y");
            h.addPaxHeader("SCHILY.xattr.user.kept", "yes");
        }));
        LayerTar.extract(new ByteArrayInputStream(tar), layer, WhiteoutFormat.OVERLAY);
        assertEquals(Map.of("user.kept", "0x796573"), Trees.xattrsOf(layer.resolve("d")));
    }

    @Test
    void truncatedTarsAreRefusedWithoutHanging() {
        byte[] tar = Tars.of(file("big", "x".repeat(10_000)), file("after", "y"));
        for (int length : new int[] {100, 511, 512, 700, 2048, 10_000}) {
            byte[] truncated = Arrays.copyOf(tar, length);
            LayerArchiveException e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(
                    LayerArchiveException.class,
                    () -> LayerTar.extract(new ByteArrayInputStream(truncated), layer, WhiteoutFormat.OCI)),
                    "length " + length);
            assertTrue(e.getMessage().toLowerCase().contains("truncated") || e.getMessage().contains("malformed"),
                    e.getMessage());
        }
    }

    @Test
    void aTarCutOffBetweenEntriesIsRefusedButAnEmptyStreamIsAnEmptyLayer() throws IOException {
        byte[] tar = Tars.of(file("first", "x"), file("second", "y"));
        byte[] cut = Arrays.copyOf(tar, 1024); // header and data of "first", nothing more
        LayerArchiveException e = assertThrows(LayerArchiveException.class,
                () -> LayerTar.extract(new ByteArrayInputStream(cut), layer, WhiteoutFormat.OCI));
        assertTrue(e.getMessage().contains("end-of-archive") && e.getMessage().contains("'first'"), e.getMessage());
        assertEquals(0, LayerTar.extract(new ByteArrayInputStream(new byte[0]), layer, WhiteoutFormat.OCI));
        assertEquals(0, LayerTar.extract(new ByteArrayInputStream(new byte[1024]), layer, WhiteoutFormat.OCI));
        // One end-of-archive block instead of two is accepted.
        byte[] oneZeroBlock = Arrays.copyOf(tar, 2048 + 512);
        LayerTar.extract(new ByteArrayInputStream(oneZeroBlock), layer, WhiteoutFormat.OCI);
        assertEquals("y", Files.readString(layer.resolve("second")));
    }

    @Test
    void corruptHeadersAreRefused() throws IOException {
        byte[] tar = Tars.of(file("a", "content"), file("b", "more"));
        byte[] corrupt = tar.clone();
        corrupt[1024 + 10] ^= 0x20; // a name byte of the second header: checksum no longer matches
        LayerArchiveException e = assertThrows(LayerArchiveException.class,
                () -> LayerTar.extract(new ByteArrayInputStream(corrupt), layer, WhiteoutFormat.OCI));
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());

        byte[] garbage = new byte[4096];
        new java.util.Random(42).nextBytes(garbage);
        assertThrows(LayerArchiveException.class,
                () -> LayerTar.extract(new ByteArrayInputStream(garbage), layer, WhiteoutFormat.OCI));

        byte[] text = "this is not a tar archive at all\n".repeat(100).getBytes(StandardCharsets.US_ASCII);
        assertThrows(LayerArchiveException.class,
                () -> LayerTar.extract(new ByteArrayInputStream(text), layer, WhiteoutFormat.OCI));
    }

    @Test
    void malformedPaxRecordsAreRefused() {
        byte[] tar = Tars.of(file("a", "x", h -> h.addPaxHeader("SCHILY.xattr.user.a", "value")));
        // The PAX record "NN SCHILY.xattr.user.a=value\n" starts the second block; break its length.
        byte[] broken = tar.clone();
        broken[512] = 'x';
        assertThrows(LayerArchiveException.class,
                () -> LayerTar.extract(new ByteArrayInputStream(broken), layer, WhiteoutFormat.OCI));
    }

    @Test
    void unsupportedEntryTypesAreRefused() {
        org.apache.commons.compress.archivers.tar.TarArchiveEntry volume =
                new org.apache.commons.compress.archivers.tar.TarArchiveEntry("label", (byte) 'V', true);
        refused(Tars.of(new Tars.Entry(volume, null)), "unsupported tar entry type 'V'");
    }
}
