package io.berth.storage.archive;

import io.berth.spi.storage.Change;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Differences between two full trees, as moby's naive diff computes them, and their layer tar. */
public final class TreeDiff {

    private TreeDiff() {
    }

    /**
     * What changed from lower to upper, both full trees; lower may be null (= empty). Paths
     * absolute ("/etc/hosts"), sorted. A path is MODIFIED if type, content (size+mtime, or bytes
     * when sizes equal and mtimes differ), mode, owner, link target or xattrs differ; a directory
     * whose own metadata is unchanged is not reported just because children changed. Everything
     * below an added directory is ADDED too; below a deleted one only the directory is DELETED.
     */
    public static List<Change> changes(Path lower, Path upper) throws IOException {
        Map<String, Map<String, byte[]>> lowerXattrs = lower == null ? Map.of() : Xattrs.readTree(lower);
        Map<String, Map<String, byte[]>> upperXattrs = Xattrs.readTree(upper);
        List<Change> changes = new ArrayList<>();
        compare(lower, upper, "", lowerXattrs, upperXattrs, changes);
        changes.sort(Comparator.comparing(Change::path));
        return changes;
    }

    private static void compare(Path lower, Path upper, String relative, Map<String, Map<String, byte[]>> lowerXattrs,
            Map<String, Map<String, byte[]>> upperXattrs, List<Change> changes) throws IOException {
        Set<String> names = new TreeSet<>(LayerTar.sortedNames(resolve(upper, relative)));
        if (lower != null) {
            names.addAll(LayerTar.sortedNames(resolve(lower, relative)));
        }
        for (String name : names) {
            String child = relative.isEmpty() ? name : relative + "/" + name;
            FileStat before = lower == null ? null : FileStat.lstat(resolve(lower, child));
            FileStat after = FileStat.lstat(resolve(upper, child));
            if (after == null) {
                if (before != null) {
                    changes.add(new Change("/" + child, Change.Kind.DELETED));
                }
                continue;
            }
            if (before == null) {
                added(upper, child, after, changes);
                continue;
            }
            if (modified(lower, upper, child, before, after, lowerXattrs, upperXattrs)) {
                changes.add(new Change("/" + child, Change.Kind.MODIFIED));
            }
            if (after.isDirectory()) {
                if (before.isDirectory()) {
                    compare(lower, upper, child, lowerXattrs, upperXattrs, changes);
                } else {
                    for (String grandchild : LayerTar.sortedNames(resolve(upper, child))) {
                        String path = child + "/" + grandchild;
                        FileStat stat = FileStat.lstat(resolve(upper, path));
                        if (stat != null) {
                            added(upper, path, stat, changes);
                        }
                    }
                }
            }
        }
    }

    private static void added(Path upper, String relative, FileStat stat, List<Change> changes) throws IOException {
        changes.add(new Change("/" + relative, Change.Kind.ADDED));
        if (stat.isDirectory()) {
            for (String name : LayerTar.sortedNames(resolve(upper, relative))) {
                String child = relative + "/" + name;
                FileStat childStat = FileStat.lstat(resolve(upper, child));
                if (childStat != null) {
                    added(upper, child, childStat, changes);
                }
            }
        }
    }

    private static boolean modified(Path lower, Path upper, String relative, FileStat before, FileStat after,
            Map<String, Map<String, byte[]>> lowerXattrs, Map<String, Map<String, byte[]>> upperXattrs)
            throws IOException {
        if (before.type() != after.type() || before.mode() != after.mode()
                || before.uid() != after.uid() || before.gid() != after.gid()) {
            return true;
        }
        if (!sameXattrs(Xattrs.forLayer(lowerXattrs, relative), Xattrs.forLayer(upperXattrs, relative))) {
            return true;
        }
        switch (after.type()) {
            case FileStat.S_IFREG:
                if (before.size() != after.size()) {
                    return true;
                }
                if (before.mtime().equals(after.mtime())) {
                    return false;
                }
                return Files.mismatch(resolve(lower, relative), resolve(upper, relative)) >= 0;
            case FileStat.S_IFLNK:
                return !Files.readSymbolicLink(resolve(lower, relative))
                        .equals(Files.readSymbolicLink(resolve(upper, relative)));
            case FileStat.S_IFCHR, FileStat.S_IFBLK:
                return before.rdev() != after.rdev();
            default:
                return false; // directories and fifos: nothing beyond the metadata above
        }
    }

    private static boolean sameXattrs(Map<String, byte[]> a, Map<String, byte[]> b) {
        if (!a.keySet().equals(b.keySet())) {
            return false;
        }
        for (Map.Entry<String, byte[]> entry : a.entrySet()) {
            if (!Arrays.equals(entry.getValue(), b.get(entry.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Writes the changes as an OCI layer tar: ADDED/MODIFIED entries taken from upper (with their
     * parent dirs' entries), DELETED as {@code .wh.NAME} whiteout entries. Entries come in tree
     * order (a directory before its content, names sorted). The stream is flushed, not closed.
     */
    public static void write(Path upper, List<Change> changes, OutputStream out) throws IOException {
        Map<String, Map<String, byte[]>> xattrs = Xattrs.readTree(upper);
        List<Change> ordered = new ArrayList<>(changes);
        ordered.sort(Comparator.comparing(change -> treeKey(change.path())));
        TarWriter writer = new TarWriter(out, xattrs);
        Set<String> written = new HashSet<>();
        for (Change change : ordered) {
            String relative = relative(change.path());
            if (relative.isEmpty()) {
                continue; // the root has no entry
            }
            int slash = relative.lastIndexOf('/');
            String parent = slash < 0 ? "" : relative.substring(0, slash);
            writeParents(upper, parent, writer, written);
            if (change.kind() == Change.Kind.DELETED) {
                if (written.add(relative + "\0whiteout")) {
                    FileStat parentStat = FileStat.lstat(resolve(upper, parent));
                    writer.addWhiteout(parent, relative.substring(slash + 1), parentStat);
                }
                continue;
            }
            FileStat stat = FileStat.lstat(resolve(upper, relative));
            if (stat == null) {
                throw new IOException("changed path " + change.path() + " is not in " + upper);
            }
            if (written.add(relative)) {
                writer.add(upper, relative, stat);
            }
        }
        writer.finish();
    }

    /**
     * The changes from lower (null = empty) to upper, as an OCI layer tar: the same as
     * {@code write(upper, changes(lower, upper), out)}.
     */
    public static void write(Path lower, Path upper, OutputStream out) throws IOException {
        write(upper, changes(lower, upper), out);
    }

    private static void writeParents(Path upper, String parent, TarWriter writer, Set<String> written)
            throws IOException {
        if (parent.isEmpty() || written.contains(parent)) {
            return;
        }
        int slash = parent.lastIndexOf('/');
        writeParents(upper, slash < 0 ? "" : parent.substring(0, slash), writer, written);
        FileStat stat = FileStat.lstat(resolve(upper, parent));
        if (stat == null || !stat.isDirectory()) {
            return; // not in upper (a deleted path's parent that is gone too): nothing to describe
        }
        written.add(parent);
        writer.add(upper, parent, stat);
    }

    /** "/a/b" -> "a/b"; refuses paths that climb out. */
    private static String relative(String path) throws IOException {
        List<String> parts = new ArrayList<>();
        for (String part : path.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                throw new IOException("change path " + path + " climbs out of the layer");
            }
            parts.add(part);
        }
        return String.join("/", parts);
    }

    /** Sorts paths in tree order: component by component, so a directory precedes its content. */
    private static String treeKey(String path) {
        return path.replace('/', '\u0000');
    }

    private static Path resolve(Path root, String relative) {
        return relative.isEmpty() ? root : root.resolve(relative);
    }
}
