package io.berth.storage.archive;

import io.berth.storage.support.DiskFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Extracts one layer tar into a directory, treating the tar as hostile.
 *
 * <p>Safety rests on three rules. Names are cleaned lexically and refused if absolute or if
 * they climb above the directory. Every parent directory of an entry is checked with lstat
 * (and remembered in {@link #safeDirs}) to be a real directory, never a symbolic link, so
 * nothing is ever written through a link, whether it was in the directory before or came
 * from the tar. Whatever is deferred to the end (directory times, xattrs) is keyed by path
 * and forgotten when that path or a parent is removed or replaced, so a later entry cannot
 * turn a deferred operation into one through a symbolic link.
 */
final class TarExtractor {

    private static final String WHITEOUT = ".wh.";
    private static final String WHITEOUT_META = ".wh..wh.";
    private static final String OPAQUE = ".wh..wh..opq";

    private final Path root;
    private final WhiteoutFormat format;
    /** Relative paths known to be real directories (not links) right now. */
    private final NavigableMap<String, Long> safeDirs = new TreeMap<>();
    /**
     * Whether a new file's owner can be predicted (this process's euid, and egid or the setgid
     * parent's group), so that lchown is skipped when the entry wants exactly that owner. Checked
     * once per extraction against the first file it is skipped for (a file system mounted with
     * grpid, for one, behaves differently), and switched off if wrong.
     */
    private boolean predictOwner = EUID >= 0 && EGID >= 0;
    private boolean ownerPredictionChecked;
    /** Relative paths this tar has written (OCI: whiteouts and opaque markers spare them). */
    private final Set<String> created = new HashSet<>();
    private final NavigableMap<String, FileTime> dirTimes = new TreeMap<>();
    private final NavigableMap<String, Map<String, byte[]>> pendingXattrs = new TreeMap<>();
    private final Map<String, byte[]> globalXattrs = new TreeMap<>();
    private final byte[] buffer = new byte[1 << 20];
    private long written;

    TarExtractor(Path root, WhiteoutFormat format) {
        this.root = root.toAbsolutePath();
        this.format = format;
    }

    long extract(InputStream in) throws IOException {
        FileStat top = FileStat.lstat(root);
        if (top == null || !top.isDirectory()) {
            throw new IOException(root + " is not a directory");
        }
        safeDirs.put("", childGid(top));
        RecordingInputStream raw = new RecordingInputStream(in);
        TarArchiveInputStream tar = new TarArchiveInputStream(raw, RawHeaders.BLOCK, RawHeaders.BLOCK, "UTF-8", false);
        String previous = null;
        while (true) {
            raw.startRecording();
            TarArchiveEntry entry;
            try {
                entry = tar.getNextEntry();
            } catch (LayerArchiveException e) {
                throw e;
            } catch (IOException | RuntimeException e) {
                throw new LayerArchiveException("malformed layer tar " + where(previous) + ": " + e.getMessage(), e);
            } finally {
                raw.stopRecording();
            }
            RawHeaders.Scan scan = RawHeaders.scan(raw.recorded(), raw.recordedLength(), raw.recordingStart(), globalXattrs);
            if (entry == null) {
                if (scan.endOfData() && previous != null) {
                    // Go's and GNU's readers accept this; but every real writer ends a layer with
                    // the end-of-archive marker, and a tar cut off between two entries is damage.
                    throw new LayerArchiveException("truncated layer tar: no end-of-archive marker " + where(previous));
                }
                if (!scan.endOfArchive() && !scan.endOfData()) {
                    throw new LayerArchiveException("malformed layer tar " + where(previous) + ": unreadable header");
                }
                break;
            }
            if (scan.endOfArchive() || scan.endOfData()) {
                throw new LayerArchiveException("malformed layer tar: header of entry '" + entry.getName()
                        + "' not found where it was read");
            }
            try {
                apply(entry, scan.xattrs(), tar);
                drain(tar, entry.getName());
            } catch (InvalidPathException e) {
                throw refuse(entry.getName(), "is not a valid path: " + e.getMessage());
            }
            previous = entry.getName();
        }
        finish();
        // Read to the end, so that a digest-verifying stream below sees all of it.
        while (raw.read(buffer, 0, buffer.length) >= 0) {
            // discard padding after the end-of-archive marker
        }
        return written;
    }

    private static String where(String previous) {
        return previous == null ? "at its first entry" : "after entry '" + previous + "'";
    }

    private void drain(TarArchiveInputStream tar, String name) throws LayerArchiveException {
        try {
            while (tar.read(buffer, 0, buffer.length) >= 0) {
                // the data of an entry that has none to extract
            }
        } catch (IOException e) {
            throw new LayerArchiveException("malformed layer tar at entry '" + name + "': " + e.getMessage(), e);
        }
    }

    // --- one entry ------------------------------------------------------------------------------

    private void apply(TarArchiveEntry entry, Map<String, byte[]> xattrs, TarArchiveInputStream content)
            throws IOException {
        String name = entry.getName();
        if (name.isEmpty()) {
            throw refuse(name, "has an empty name");
        }
        if (name.startsWith("/")) {
            throw refuse(name, "has an absolute path; layer entries must be relative to the layer root");
        }
        List<String> parts = clean(name, name, "its name");
        char kind = kind(entry);
        if (parts.isEmpty()) {
            if (kind != 'd') {
                throw refuse(name, "names the layer root but is not a directory");
            }
            setOwner(root, entry, null);
            setDirectoryMetadata("", root, entry, xattrs);
            return;
        }
        for (int i = 0; i < parts.size() - 1; i++) {
            if (parts.get(i).startsWith(WHITEOUT)) {
                throw refuse(name, "puts an entry below a whiteout name '" + parts.get(i) + "'");
            }
        }
        String base = parts.get(parts.size() - 1);
        List<String> parentParts = parts.subList(0, parts.size() - 1);
        if (base.equals(OPAQUE)) {
            opaque(name, parentParts, entry);
            return;
        }
        if (base.startsWith(WHITEOUT_META)) {
            return; // aufs metadata (.wh..wh.plnk and the like): not content
        }
        if (base.startsWith(WHITEOUT)) {
            whiteout(name, parentParts, base.substring(WHITEOUT.length()), entry);
            return;
        }
        String relative = String.join("/", parts);
        Path parent = ensureDirectory(name, "its path", parentParts, true);
        Path target = parent.resolve(base);
        created.add(relative);
        switch (kind) {
            case 'd' -> {
                FileStat existing = FileStat.lstat(target);
                if (existing != null && !existing.isDirectory()) {
                    remove(relative, target, existing);
                    existing = null;
                }
                boolean fresh = existing == null;
                if (fresh) {
                    Files.createDirectory(target);
                }
                setOwner(target, entry, fresh ? parentRelative(relative) : null);
                setDirectoryMetadata(relative, target, entry, xattrs);
            }
            case 'f' -> {
                int mode = entry.getMode() & 07777;
                // Created with its final permissions when the umask leaves them alone (the usual
                // case), which saves a chmod per file; chown does not touch plain permission bits.
                boolean modeAtCreation = UMASK >= 0 && (mode & 07000) == 0 && (mode & UMASK) == 0;
                writeFile(relative, target, content, name, modeAtCreation ? mode : 0600);
                setOwner(target, entry, parentRelative(relative));
                if (!modeAtCreation) {
                    Files.setAttribute(target, "unix:mode", mode);
                }
                // atime = mtime, as Docker does; giving both saves the JDK a stat.
                FileTime mtime = entry.getLastModifiedTime();
                Files.getFileAttributeView(target, BasicFileAttributeView.class).setTimes(mtime, mtime, null);
                keepXattrs(relative, xattrs);
            }
            case 'l' -> {
                String linkTarget = entry.getLinkName();
                if (linkTarget == null || linkTarget.isEmpty()) {
                    throw refuse(name, "is a symbolic link without a target");
                }
                replaceable(relative, target);
                Files.createSymbolicLink(target, Path.of(linkTarget));
                setOwner(target, entry, parentRelative(relative));
                Files.getFileAttributeView(target, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                        .setTimes(entry.getLastModifiedTime(), null, null);
                keepXattrs(relative, xattrs);
            }
            case 'h' -> {
                Path existing = hardlinkTarget(name, entry.getLinkName());
                if (existing.equals(target)) {
                    return; // a link to itself: already there
                }
                replaceable(relative, target);
                Files.createLink(target, existing);
            }
            case 'c', 'b', 'p' -> {
                replaceable(relative, target);
                NativeOps.mknod(target, kind, entry.getDevMajor(), entry.getDevMinor(), entry.getLastModifiedTime());
                setOwner(target, entry, null);
                // Path-based chmod(2), which does not open the node; target was just made and is no link.
                Files.setAttribute(target, "unix:mode", entry.getMode() & 07777);
                keepXattrs(relative, xattrs);
            }
            default -> throw new IllegalStateException("kind " + kind);
        }
    }

    /** 'd', 'f', 'l' (symlink), 'h' (hard link), 'c', 'b', 'p'. */
    private static char kind(TarArchiveEntry entry) throws LayerArchiveException {
        byte flag = entry.getLinkFlag();
        switch (flag) {
            case TarConstants.LF_DIR:
                return 'd';
            case TarConstants.LF_NORMAL, TarConstants.LF_OLDNORM, TarConstants.LF_CONTIG:
                return entry.getName().endsWith("/") ? 'd' : 'f';
            case TarConstants.LF_GNUTYPE_SPARSE:
                return 'f';
            case TarConstants.LF_SYMLINK:
                return 'l';
            case TarConstants.LF_LINK:
                return 'h';
            case TarConstants.LF_CHR:
                return 'c';
            case TarConstants.LF_BLK:
                return 'b';
            case TarConstants.LF_FIFO:
                return 'p';
            default:
                throw refuse(entry.getName(), "has unsupported tar entry type '" + (char) flag + "'");
        }
    }

    /** Mode, deferred time and xattrs of a directory entry (its owner is set already). */
    private void setDirectoryMetadata(String relative, Path dir, TarArchiveEntry entry,
            Map<String, byte[]> xattrs) throws IOException {
        int mode = entry.getMode() & 07777;
        Files.setAttribute(dir, "unix:mode", mode);
        safeDirs.put(relative, (mode & 02000) != 0 ? entry.getLongGroupId() : EGID);
        dirTimes.put(relative, entry.getLastModifiedTime());
        keepXattrs(relative, xattrs);
    }

    /**
     * lchown(2), which never follows a symbolic link; it clears setuid bits, so it comes before
     * chmod.
     *
     * @param freshIn the parent (relative) if this process just created path there, so that its
     *                owner is predictable; null if path existed or its owner is not predictable
     */
    private void setOwner(Path path, TarArchiveEntry entry, String freshIn) throws IOException {
        long uid = entry.getLongUserId();
        long gid = entry.getLongGroupId();
        if (freshIn != null && predictOwner) {
            Long expectedGid = safeDirs.get(freshIn);
            if (expectedGid != null && uid == EUID && gid == expectedGid) {
                if (ownerPredictionChecked) {
                    return;
                }
                ownerPredictionChecked = true;
                FileStat stat = FileStat.lstat(path);
                if (stat != null && stat.uid() == uid && stat.gid() == gid) {
                    return;
                }
                predictOwner = false;
            }
        }
        Files.setAttribute(path, "unix:uid", (int) uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(path, "unix:gid", (int) gid, LinkOption.NOFOLLOW_LINKS);
    }

    /** The group new files get in a directory: its own if it is setgid, else this process's. */
    private static long childGid(FileStat dir) {
        return (dir.mode() & 02000) != 0 ? dir.gid() : EGID;
    }

    private static String parentRelative(String relative) {
        int slash = relative.lastIndexOf('/');
        return slash < 0 ? "" : relative.substring(0, slash);
    }

    private static final long EUID = ownerOfProcSelf("unix:uid");
    private static final long EGID = ownerOfProcSelf("unix:gid");

    /** /proc/self belongs to this process's effective uid and gid. */
    private static long ownerOfProcSelf(String attribute) {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), attribute)) & 0xffffffffL;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private void keepXattrs(String relative, Map<String, byte[]> xattrs) {
        Map<String, byte[]> kept = new TreeMap<>();
        xattrs.forEach((key, value) -> {
            if (Xattrs.belongsInLayer(key)) {
                kept.put(key, value);
            }
        });
        if (kept.isEmpty()) {
            pendingXattrs.remove(relative);
        } else {
            pendingXattrs.put(relative, kept);
        }
    }

    private static final Set<StandardOpenOption> CREATE_NEW = Set.of(StandardOpenOption.WRITE,
            StandardOpenOption.CREATE_NEW);

    private FileChannel createNew(String relative, Path target, int mode) throws IOException {
        // O_CREAT|O_EXCL: never opens what is there, least of all through a symbolic link.
        FileAttribute<?> permissions = permissions(mode);
        try {
            return FileChannel.open(target, CREATE_NEW, permissions);
        } catch (FileAlreadyExistsException e) {
            replaceable(relative, target);
            return FileChannel.open(target, CREATE_NEW, permissions);
        }
    }

    private static final FileAttribute<?>[] PERMISSIONS = new FileAttribute<?>[01000];

    private static FileAttribute<?> permissions(int mode) {
        FileAttribute<?> attribute = PERMISSIONS[mode & 0777];
        if (attribute == null) {
            Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
            PosixFilePermission[] all = PosixFilePermission.values(); // OWNER_READ .. OTHERS_EXECUTE
            for (int bit = 0; bit < 9; bit++) {
                if ((mode & (0400 >> bit)) != 0) {
                    set.add(all[bit]);
                }
            }
            attribute = PosixFilePermissions.asFileAttribute(set);
            PERMISSIONS[mode & 0777] = attribute;
        }
        return attribute;
    }

    /** The process umask from /proc/self/status, or -1 if unknown (then every file gets a chmod). */
    private static final int UMASK = readUmask();

    private static int readUmask() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Umask:")) {
                    return Integer.parseInt(line.substring("Umask:".length()).trim(), 8);
                }
            }
        } catch (IOException | RuntimeException e) {
            // unknown
        }
        return -1;
    }

    private void writeFile(String relative, Path target, InputStream content, String name, int mode)
            throws IOException {
        try (FileChannel channel = createNew(relative, target, mode)) {
            while (true) {
                int n;
                try {
                    n = content.read(buffer, 0, buffer.length);
                } catch (IOException e) {
                    throw new LayerArchiveException("malformed layer tar at entry '" + name + "': " + e.getMessage(), e);
                }
                if (n < 0) {
                    break;
                }
                ByteBuffer bytes = ByteBuffer.wrap(buffer, 0, n);
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
                written += n;
            }
        }
    }

    // --- whiteouts ------------------------------------------------------------------------------

    private void whiteout(String name, List<String> parentParts, String hidden, TarArchiveEntry entry)
            throws IOException {
        if (hidden.isEmpty() || hidden.equals(".") || hidden.equals("..")) {
            throw refuse(name, "is a whiteout for '" + hidden + "', which is not a name in its directory");
        }
        String relative = join(parentParts, hidden);
        if (format == WhiteoutFormat.OVERLAY) {
            Path target = ensureDirectory(name, "its path", parentParts, true).resolve(hidden);
            replaceable(relative, target);
            NativeOps.mknod(target, 'c', 0, 0, entry.getLastModifiedTime()); // the whiteout keeps its time in a round trip
            setOwner(target, entry, null);
            created.add(relative);
            return;
        }
        Path parent = ensureDirectory(name, "its path", parentParts, false);
        if (parent == null || created.contains(relative)) {
            return; // nothing below to hide, or this tar's own entry (whiteouts hide only the parents' content)
        }
        Path target = parent.resolve(hidden);
        FileStat existing = FileStat.lstat(target);
        if (existing != null) {
            remove(relative, target, existing);
        }
    }

    private void opaque(String name, List<String> dirParts, TarArchiveEntry entry) throws IOException {
        Path dir = ensureDirectory(name, "its path", dirParts, true);
        String relative = String.join("/", dirParts);
        if (format == WhiteoutFormat.OVERLAY) {
            pendingXattrs.computeIfAbsent(relative, key -> new TreeMap<>())
                    .put("trusted.overlay.opaque", new byte[] {'y'});
            return;
        }
        clearNotCreated(relative, dir);
    }

    /** OCI opaque directory: removes everything below dir that this tar did not write. */
    private void clearNotCreated(String relative, Path dir) throws IOException {
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            stream.forEach(children::add);
        }
        for (Path child : children) {
            String childRelative = join(relative, child.getFileName().toString());
            FileStat stat = FileStat.lstat(child);
            if (stat == null) {
                continue;
            }
            if (!created.contains(childRelative)) {
                remove(childRelative, child, stat);
            } else if (stat.isDirectory()) {
                clearNotCreated(childRelative, child);
            }
        }
    }

    // --- paths ----------------------------------------------------------------------------------

    /**
     * Cleans a tar name lexically: drops "" and "." parts, resolves ".." against the parts before
     * it, and refuses a ".." that would climb above the root. Never looks at the disk, so a
     * symbolic link in a name like "link/../x" is never followed.
     */
    private static List<String> clean(String name, String entryName, String what) throws LayerArchiveException {
        List<String> parts = new ArrayList<>();
        int start = 0;
        while (start <= name.length()) {
            int slash = name.indexOf('/', start);
            int end = slash < 0 ? name.length() : slash;
            String part = name.substring(start, end);
            if (part.equals("..")) {
                if (parts.isEmpty()) {
                    throw refuse(entryName, "escapes the layer directory: " + what + " '" + name + "' climbs above it with '..'");
                }
                parts.remove(parts.size() - 1);
            } else if (!part.isEmpty() && !part.equals(".")) {
                if (part.indexOf('\0') >= 0) {
                    throw refuse(entryName, "has a NUL byte in " + what);
                }
                parts.add(part);
            }
            start = end + 1;
        }
        return parts;
    }

    /**
     * Makes sure root/parts is a real directory reached without any symbolic link: creates missing
     * directories (mode 0755, like Docker) if {@code create}, else returns null when one is missing.
     */
    private Path ensureDirectory(String name, String what, List<String> parts, boolean create) throws IOException {
        String relative = String.join("/", parts);
        if (safeDirs.containsKey(relative)) {
            return relative.isEmpty() ? root : root.resolve(relative);
        }
        Path path = root;
        StringBuilder sofar = new StringBuilder();
        for (String part : parts) {
            if (sofar.length() > 0) {
                sofar.append('/');
            }
            sofar.append(part);
            path = path.resolve(part);
            String current = sofar.toString();
            if (safeDirs.containsKey(current)) {
                continue;
            }
            FileStat stat = FileStat.lstat(path);
            if (stat == null) {
                if (!create) {
                    return null;
                }
                Files.createDirectory(path);
                Files.setAttribute(path, "unix:mode", 0755); // clears a setgid bit inherited from the parent
                safeDirs.put(current, EGID);
                continue;
            } else if (stat.isSymbolicLink()) {
                throw refuse(name, what + " goes through '" + current + "', which is a symbolic link; links are never followed");
            } else if (!stat.isDirectory()) {
                throw refuse(name, what + " goes through '" + current + "', which is not a directory");
            }
            safeDirs.put(current, childGid(stat));
        }
        return path;
    }

    /** Checks a hard link's target: inside the root, reached without links, existing, not a link or directory. */
    private Path hardlinkTarget(String name, String linkName) throws IOException {
        if (linkName == null || linkName.isEmpty()) {
            throw refuse(name, "is a hard link without a target");
        }
        if (linkName.startsWith("/")) {
            throw refuse(name, "is a hard link to the absolute path '" + linkName + "'; targets must be inside the layer");
        }
        List<String> parts = clean(linkName, name, "its hard link target");
        if (parts.isEmpty()) {
            throw refuse(name, "is a hard link to the layer root");
        }
        Path parent = ensureDirectory(name, "its hard link target '" + linkName + "'", parts.subList(0, parts.size() - 1), false);
        if (parent == null) {
            throw refuse(name, "is a hard link to '" + linkName + "', which does not exist");
        }
        Path target = parent.resolve(parts.get(parts.size() - 1));
        FileStat stat = FileStat.lstat(target);
        if (stat == null) {
            throw refuse(name, "is a hard link to '" + linkName + "', which does not exist");
        }
        if (stat.isSymbolicLink()) {
            throw refuse(name, "is a hard link to '" + linkName + "', which is a symbolic link");
        }
        if (stat.isDirectory()) {
            throw refuse(name, "is a hard link to '" + linkName + "', which is a directory");
        }
        return target;
    }

    /** Removes whatever is at target (a directory with its content), so that something new can take its place. */
    private void replaceable(String relative, Path target) throws IOException {
        FileStat existing = FileStat.lstat(target);
        if (existing != null) {
            remove(relative, target, existing);
        }
    }

    private void remove(String relative, Path target, FileStat stat) throws IOException {
        if (stat.isDirectory()) {
            DiskFiles.deleteTree(target);
        } else {
            Files.delete(target);
        }
        forget(relative);
    }

    /** Forgets what was known or deferred about relative and everything below it. */
    private void forget(String relative) {
        String below = relative + "/";
        safeDirs.remove(relative);
        safeDirs.subMap(below, true, relative + "0", false).clear(); // '0' follows '/'
        dirTimes.remove(relative);
        dirTimes.subMap(below, true, relative + "0", false).clear();
        pendingXattrs.remove(relative);
        pendingXattrs.subMap(below, true, relative + "0", false).clear();
    }

    // --- the end --------------------------------------------------------------------------------

    private void finish() throws IOException {
        Map<Path, Map<String, byte[]>> xattrs = new LinkedHashMap<>();
        for (Map.Entry<String, Map<String, byte[]>> entry : pendingXattrs.entrySet()) {
            String relative = entry.getKey();
            // Belt and braces: nothing deferred may be applied through a link (see forget()).
            List<String> parts = relative.isEmpty() ? List.of() : List.of(relative.split("/"));
            if (!parts.isEmpty()) {
                ensureDirectory(relative, "its path", parts.subList(0, parts.size() - 1), false);
            }
            xattrs.put(relative.isEmpty() ? root : root.resolve(relative), entry.getValue());
        }
        Xattrs.apply(xattrs);
        for (Map.Entry<String, FileTime> entry : dirTimes.descendingMap().entrySet()) {
            Path dir = entry.getKey().isEmpty() ? root : root.resolve(entry.getKey());
            Files.getFileAttributeView(dir, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .setTimes(entry.getValue(), entry.getValue(), null);
        }
    }

    private static String join(List<String> parts, String name) {
        return parts.isEmpty() ? name : String.join("/", parts) + "/" + name;
    }

    private static String join(String relative, String name) {
        return relative.isEmpty() ? name : relative + "/" + name;
    }

    static LayerArchiveException refuse(String entryName, String why) {
        return new LayerArchiveException("layer tar entry '" + entryName + "': " + why);
    }
}
