package io.berth.storage.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.spi.storage.Change;
import io.berth.spi.storage.Change.Kind;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TreeDiffTest {

    static final FileTime THEN = FileTime.fromMillis(1_580_608_922_000L);
    static final FileTime LATER = FileTime.fromMillis(1_600_000_000_000L);

    @TempDir
    Path temp;
    Path lower;
    Path upper;

    @BeforeEach
    void trees() throws IOException {
        lower = Files.createDirectories(temp.resolve("lower"));
        Files.createDirectories(lower.resolve("etc/sub"));
        Files.createDirectories(lower.resolve("gone-dir/inner"));
        Files.writeString(lower.resolve("gone-dir/inner/file"), "x");
        for (String name : List.of("etc/same", "etc/touched", "etc/same-size", "etc/longer", "etc/chmod", "etc/chown",
                "etc/xattr", "etc/deleted", "etc/sub/deep", "becomes-dir")) {
            Files.writeString(lower.resolve(name), "content");
            Files.setLastModifiedTime(lower.resolve(name), THEN);
        }
        Files.createSymbolicLink(lower.resolve("etc/link"), Path.of("same"));
        Files.createDirectories(lower.resolve("dir-chmod"));
        Trees.run("cp", "-a", lower.toString(), temp.resolve("upper").toString());
        upper = temp.resolve("upper");

        Files.setLastModifiedTime(upper.resolve("etc/touched"), LATER);       // same bytes, new mtime: unchanged
        Files.writeString(upper.resolve("etc/same-size"), "CONTENT");         // same size, new mtime, new bytes
        Files.writeString(upper.resolve("etc/longer"), "more content");
        Files.setAttribute(upper.resolve("etc/chmod"), "unix:mode", 0600);
        Files.setAttribute(upper.resolve("etc/chown"), "unix:uid", 1234);
        Trees.setXattr(upper.resolve("etc/xattr"), "security.capability", RoundTripTest.BINARY_CAPABILITY);
        Files.delete(upper.resolve("etc/deleted"));
        Files.writeString(upper.resolve("etc/sub/deep"), "changed");          // etc/sub's mtime changes, not reported
        Files.delete(upper.resolve("etc/link"));
        Files.createSymbolicLink(upper.resolve("etc/link"), Path.of("elsewhere"));
        Trees.run("rm", "-rf", upper.resolve("gone-dir").toString());
        Files.createDirectories(upper.resolve("new-dir/inner"));
        Files.writeString(upper.resolve("new-dir/inner/file"), "new");
        Files.delete(upper.resolve("becomes-dir"));
        Files.createDirectories(upper.resolve("becomes-dir"));
        Files.writeString(upper.resolve("becomes-dir/child"), "child");
        Files.setAttribute(upper.resolve("dir-chmod"), "unix:mode", 0700);
    }

    @Test
    void changesReportWhatChangedSorted() throws IOException {
        List<Change> expected = List.of(
                new Change("/becomes-dir", Kind.MODIFIED),
                new Change("/becomes-dir/child", Kind.ADDED),
                new Change("/dir-chmod", Kind.MODIFIED),
                new Change("/etc/chmod", Kind.MODIFIED),
                new Change("/etc/chown", Kind.MODIFIED),
                new Change("/etc/deleted", Kind.DELETED),
                new Change("/etc/link", Kind.MODIFIED),
                new Change("/etc/longer", Kind.MODIFIED),
                new Change("/etc/same-size", Kind.MODIFIED),
                new Change("/etc/sub/deep", Kind.MODIFIED),
                new Change("/etc/xattr", Kind.MODIFIED),
                new Change("/gone-dir", Kind.DELETED),
                new Change("/new-dir", Kind.ADDED),
                new Change("/new-dir/inner", Kind.ADDED),
                new Change("/new-dir/inner/file", Kind.ADDED));
        assertEquals(expected, TreeDiff.changes(lower, upper));
    }

    @Test
    void withoutALowerTreeEverythingIsAdded() throws IOException {
        List<Change> changes = TreeDiff.changes(null, lower);
        assertTrue(changes.stream().allMatch(change -> change.kind() == Kind.ADDED), changes.toString());
        assertTrue(changes.contains(new Change("/gone-dir/inner/file", Kind.ADDED)));
        assertEquals(Trees.snapshot(lower).size(), changes.size());
        List<Change> sorted = new ArrayList<>(changes);
        sorted.sort(java.util.Comparator.comparing(Change::path));
        assertEquals(sorted, changes);
    }

    @Test
    void identicalTreesHaveNoChanges() throws IOException {
        Trees.run("cp", "-a", lower.toString(), temp.resolve("copy").toString());
        assertEquals(List.of(), TreeDiff.changes(lower, temp.resolve("copy")));
    }

    @Test
    void theDiffTarAppliedOnTheLowerTreeGivesTheUpperTree() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TreeDiff.write(upper, TreeDiff.changes(lower, upper), out);
        byte[] tar = out.toByteArray();

        List<String> names = new ArrayList<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            for (TarArchiveEntry entry = in.getNextEntry(); entry != null; entry = in.getNextEntry()) {
                names.add(entry.getName());
            }
        }
        assertEquals(List.of("becomes-dir/", "becomes-dir/child", "dir-chmod/", "etc/", "etc/chmod", "etc/chown",
                "etc/.wh.deleted", "etc/link", "etc/longer", "etc/same-size", "etc/sub/", "etc/sub/deep", "etc/xattr",
                ".wh.gone-dir", "new-dir/", "new-dir/inner/", "new-dir/inner/file"), names);

        Path applied = temp.resolve("applied");
        Trees.run("cp", "-a", lower.toString(), applied.toString());
        LayerTar.extract(new ByteArrayInputStream(tar), applied, WhiteoutFormat.OCI);
        var expected = Trees.snapshot(upper);
        var actual = Trees.snapshot(applied);
        // etc/touched's new mtime is not a change (same bytes), so the applied tree keeps the old one.
        expected.remove("etc/touched");
        actual.remove("etc/touched");
        assertEquals(expected, actual);

        ByteArrayOutputStream again = new ByteArrayOutputStream();
        TreeDiff.write(lower, upper, again);
        assertEquals(tar.length, again.size(), "the (lower, upper) form writes the same tar");
    }

    @Test
    void aSymlinkIsComparedByItsTargetNotFollowed() throws IOException {
        Path a = Files.createDirectories(temp.resolve("a"));
        Path b = Files.createDirectories(temp.resolve("b"));
        Files.createSymbolicLink(a.resolve("l"), Path.of("/etc/passwd"));
        Files.createSymbolicLink(b.resolve("l"), Path.of("/etc/passwd"));
        Files.getFileAttributeView(b.resolve("l"), java.nio.file.attribute.BasicFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS).setTimes(LATER, null, null);
        assertEquals(List.of(), TreeDiff.changes(a, b));
    }
}
