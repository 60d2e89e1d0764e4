package io.berth.containers.files;

import io.berth.storage.archive.FileStat;
import io.berth.storage.archive.LayerTar;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Writes a tree of a container as {@code docker cp} sends it: every entry under one top name (the copied path's
 * base name), directories with a trailing {@code /}, hard links as link entries, PAX headers for long names and
 * large numbers. A directory is walked by its container path, so a mount point below it contributes the mount's
 * content, as the container sees it. Sockets are left out, as tar does.
 *
 * <p>The layer writer of {@code io.berth.storage.archive} writes a layer's root without a top name and cannot look
 * through mounts, hence this one; extended attributes are not written (Docker's {@code cp} sends only
 * {@code security.capability}).
 */
final class TreeTar {

    private final TarArchiveOutputStream tar;
    private final BufferedOutputStream buffered;
    /** Where a clean container path is on the host (crossing into mounts). */
    private final Function<String, Path> locate;
    private final Map<List<Long>, String> inodes = new HashMap<>();

    TreeTar(OutputStream out, Function<String, Path> locate) {
        this.buffered = new BufferedOutputStream(out, 1 << 16);
        this.tar = new TarArchiveOutputStream(buffered, StandardCharsets.UTF_8.name());
        this.tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        this.tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        this.tar.setAddPaxHeadersForNonAsciiNames(true);
        this.locate = locate;
    }

    /**
     * Writes the file or tree at {@code host} (the container path {@code containerPath}) under the entry name
     * {@code name}, then the end-of-archive marker; flushes, does not close.
     */
    void write(Path host, String containerPath, String name) throws IOException {
        add(host, containerPath, name);
        tar.finish();
        buffered.flush();
    }

    private void add(Path host, String containerPath, String name) throws IOException {
        FileStat stat = FileStat.lstat(host);
        if (stat == null) {
            return; // removed while we walked
        }
        int type = stat.type();
        TarArchiveEntry entry;
        if (type == FileStat.S_IFDIR) {
            entry = entry(name + "/", TarConstants.LF_DIR);
        } else if (type == FileStat.S_IFLNK) {
            entry = entry(name, TarConstants.LF_SYMLINK);
            entry.setLinkName(Files.readSymbolicLink(host).toString());
        } else if (type == FileStat.S_IFSOCK) {
            return;
        } else {
            String first = stat.nlink() > 1 ? inodes.putIfAbsent(List.of(stat.dev(), stat.ino()), name) : null;
            if (first != null) {
                entry = entry(name, TarConstants.LF_LINK);
                entry.setLinkName(first);
            } else if (type == FileStat.S_IFREG) {
                entry = entry(name, TarConstants.LF_NORMAL);
                entry.setSize(stat.size());
            } else if (type == FileStat.S_IFIFO) {
                entry = entry(name, TarConstants.LF_FIFO);
            } else {
                entry = entry(name, type == FileStat.S_IFCHR ? TarConstants.LF_CHR : TarConstants.LF_BLK);
                entry.setDevMajor((int) stat.major());
                entry.setDevMinor((int) stat.minor());
            }
        }
        entry.setMode(stat.mode());
        entry.setUserId(stat.uid());
        entry.setGroupId(stat.gid());
        // Whole seconds, as Go's tar writer (Docker's) sends them; sub-second times would cost a PAX header each.
        entry.setModTime(FileTime.from(stat.mtime().to(TimeUnit.SECONDS), TimeUnit.SECONDS));
        tar.putArchiveEntry(entry);
        if (entry.getLinkFlag() == TarConstants.LF_NORMAL) {
            copyContent(host, entry.getSize());
        }
        tar.closeArchiveEntry();
        if (type == FileStat.S_IFDIR) {
            for (String child : LayerTar.sortedNames(host)) {
                String childPath = containerPath.equals("/") ? "/" + child : containerPath + "/" + child;
                add(locate.apply(childPath), childPath, name + "/" + child);
            }
        }
    }

    private static TarArchiveEntry entry(String name, byte type) {
        TarArchiveEntry entry = new TarArchiveEntry(name, type, true);
        entry.setUserName("");
        entry.setGroupName("");
        return entry;
    }

    private void copyContent(Path file, long size) throws IOException {
        try (var in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            long copied = in.transferTo(new BoundedOutput(tar, size));
            if (copied < size) {
                throw new IOException(file + " shrank while it was copied (" + copied + " of " + size + " bytes)");
            }
        }
    }

    /** Passes at most {@code limit} bytes on: a file that grew while it was copied is cut at its listed size. */
    private static final class BoundedOutput extends OutputStream {

        private final OutputStream out;
        private long remaining;

        BoundedOutput(OutputStream out, long limit) {
            this.out = out;
            this.remaining = limit;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            int n = (int) Math.min(length, remaining);
            if (n > 0) {
                out.write(bytes, offset, n);
                remaining -= n;
            }
        }
    }
}
