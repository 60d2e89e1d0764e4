package io.berth.storage.archive;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Writes layer tar entries from files on disk: PAX format where needed (long or non-ASCII
 * names, xattrs), GNU base-256 numbers for values too large for octal, hard links detected by
 * inode. Does not close the target stream.
 *
 * <p>The PAX extended header is built here rather than by Commons Compress because Commons
 * only takes String values and encodes them as UTF-8, which would corrupt binary xattrs
 * (see {@link RawHeaders}). Each entry gets at most one extended header: Commons is set to
 * fail rather than add a second one (Go's archive/tar, used by Docker, keeps only the last
 * extended header before an entry).
 */
final class TarWriter {

    private static final int NAME_LIMIT = 100; // ustar name and linkname fields
    private static final FileTime EPOCH = FileTime.fromMillis(0);

    private final BufferedOutputStream buffered;
    private final TarArchiveOutputStream tar;
    private final Map<String, Map<String, byte[]>> xattrs;
    private final Map<List<Long>, String> inodes = new HashMap<>();
    private final ByteBuffer buffer = ByteBuffer.allocate(1 << 20);

    /**
     * @param xattrs the tree's extended attributes from {@link Xattrs#readTree}, keyed by
     *               relative path
     */
    TarWriter(OutputStream out, Map<String, Map<String, byte[]>> xattrs) {
        this.buffered = new BufferedOutputStream(out, 1 << 20);
        this.tar = new TarArchiveOutputStream(buffered, StandardCharsets.UTF_8.name());
        this.tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_ERROR);
        this.tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_STAR);
        this.xattrs = xattrs;
    }

    /**
     * Writes the file at {@code root/relative} as an entry named {@code relative} (with a
     * trailing '/' for a directory). Sockets are skipped, as tar does.
     */
    void add(Path root, String relative, FileStat stat) throws IOException {
        Path file = root.resolve(relative);
        Map<String, byte[]> attributes = Xattrs.forLayer(xattrs, relative);
        TarArchiveEntry entry;
        String linkName = null;
        switch (stat.type()) {
            case FileStat.S_IFDIR -> entry = entry(relative + "/", TarConstants.LF_DIR);
            case FileStat.S_IFLNK -> {
                entry = entry(relative, TarConstants.LF_SYMLINK);
                linkName = Files.readSymbolicLink(file).toString();
            }
            case FileStat.S_IFREG, FileStat.S_IFCHR, FileStat.S_IFBLK, FileStat.S_IFIFO -> {
                String first = null;
                if (stat.nlink() > 1) {
                    first = inodes.putIfAbsent(List.of(stat.dev(), stat.ino()), relative);
                }
                if (first != null) {
                    entry = entry(relative, TarConstants.LF_LINK);
                    linkName = first;
                } else if (stat.isRegularFile()) {
                    entry = entry(relative, TarConstants.LF_NORMAL);
                    entry.setSize(stat.size());
                } else if (stat.type() == FileStat.S_IFIFO) {
                    entry = entry(relative, TarConstants.LF_FIFO);
                } else {
                    entry = entry(relative, stat.type() == FileStat.S_IFCHR ? TarConstants.LF_CHR : TarConstants.LF_BLK);
                    entry.setDevMajor((int) stat.major());
                    entry.setDevMinor((int) stat.minor());
                }
            }
            default -> {
                return; // a socket: tar cannot hold it
            }
        }
        entry.setMode(stat.mode());
        entry.setUserId(stat.uid());
        entry.setGroupId(stat.gid());
        entry.setModTime(stat.mtime());
        put(entry, linkName, attributes);
        if (entry.getLinkFlag() == TarConstants.LF_NORMAL) {
            copyContent(file, stat.size());
        }
        tar.closeArchiveEntry();
    }

    /** An OCI whiteout: an empty regular file {@code .wh.NAME} (Docker's mode 0600, owner and time from the deleted file if known). */
    void addWhiteout(String relativeParent, String name, FileStat like) throws IOException {
        String path = (relativeParent.isEmpty() ? "" : relativeParent + "/") + ".wh." + name;
        emptyFile(path, 0600, like);
    }

    /** An OCI opaque-directory marker {@code DIR/.wh..wh..opq}, with the directory's owner, permissions and time. */
    void addOpaqueMarker(String relativeDir, FileStat dir) throws IOException {
        String path = (relativeDir.isEmpty() ? "" : relativeDir + "/") + ".wh..wh..opq";
        emptyFile(path, dir.mode() & 0777, dir);
    }

    private void emptyFile(String path, int mode, FileStat like) throws IOException {
        TarArchiveEntry entry = entry(path, TarConstants.LF_NORMAL);
        entry.setMode(mode);
        entry.setSize(0);
        entry.setUserId(like == null ? 0 : like.uid());
        entry.setGroupId(like == null ? 0 : like.gid());
        entry.setModTime(like == null ? EPOCH : like.mtime());
        put(entry, null, Map.of());
        tar.closeArchiveEntry();
    }

    /** Writes the end-of-archive marker and flushes; does not close the target. */
    void finish() throws IOException {
        tar.finish();
        buffered.flush();
    }

    private static TarArchiveEntry entry(String name, byte type) {
        TarArchiveEntry entry = new TarArchiveEntry(name, type, true);
        entry.setUserName("");
        entry.setGroupName("");
        return entry;
    }

    /**
     * Writes the entry's header, preceded by one PAX extended header if the name or link name
     * does not fit ustar (or is not ASCII) or the entry has xattrs.
     */
    private void put(TarArchiveEntry entry, String linkName, Map<String, byte[]> attributes) throws IOException {
        Map<String, byte[]> pax = new LinkedHashMap<>();
        String name = entry.getName();
        if (!fitsUstar(name)) {
            pax.put("path", name.getBytes(StandardCharsets.UTF_8));
            entry.setName(placeholder(name));
        }
        if (linkName != null) {
            if (!fitsUstar(linkName)) {
                pax.put("linkpath", linkName.getBytes(StandardCharsets.UTF_8));
                entry.setLinkName(placeholder(linkName));
            } else {
                entry.setLinkName(linkName);
            }
        }
        attributes.forEach((key, value) -> pax.put("SCHILY.xattr." + key, value));
        if (!pax.isEmpty()) {
            byte[] records = RawHeaders.encodeRecords(pax);
            String base = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
            base = base.substring(base.lastIndexOf('/') + 1);
            TarArchiveEntry header = new TarArchiveEntry(placeholder("PaxHeaders/" + base),
                    TarConstants.LF_PAX_EXTENDED_HEADER_LC, true);
            header.setUserName("");
            header.setGroupName("");
            header.setModTime(entry.getLastModifiedTime());
            header.setSize(records.length);
            tar.putArchiveEntry(header);
            tar.write(records);
            tar.closeArchiveEntry();
        }
        tar.putArchiveEntry(entry);
    }

    private static boolean fitsUstar(String name) {
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) >= 0x80 || name.charAt(i) == 0) {
                return false;
            }
        }
        return name.length() < NAME_LIMIT;
    }

    /** A short ASCII stand-in for the header field when the real name is in the PAX header. */
    private static String placeholder(String name) {
        boolean directory = name.endsWith("/");
        StringBuilder ascii = new StringBuilder();
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            ascii.append(c >= 0x80 || c == 0 ? '_' : c);
        }
        String text = directory ? ascii.substring(0, ascii.length() - 1) : ascii.toString();
        int limit = NAME_LIMIT - 1 - (directory ? 1 : 0);
        if (text.length() > limit) {
            text = text.substring(text.length() - limit);
        }
        return directory ? text + "/" : text;
    }

    private void copyContent(Path file, long size) throws IOException {
        long remaining = size;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            while (remaining > 0) {
                buffer.clear();
                if (remaining < buffer.capacity()) {
                    buffer.limit((int) remaining);
                }
                int n = channel.read(buffer);
                if (n < 0) {
                    throw new IOException(file + " shrank while it was written to the tar ("
                            + (size - remaining) + " of " + size + " bytes)");
                }
                tar.write(buffer.array(), 0, n);
                remaining -= n;
            }
        }
    }
}
