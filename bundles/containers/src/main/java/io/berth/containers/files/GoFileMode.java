package io.berth.containers.files;

import static io.berth.storage.archive.FileStat.S_IFBLK;
import static io.berth.storage.archive.FileStat.S_IFCHR;
import static io.berth.storage.archive.FileStat.S_IFDIR;
import static io.berth.storage.archive.FileStat.S_IFIFO;
import static io.berth.storage.archive.FileStat.S_IFLNK;
import static io.berth.storage.archive.FileStat.S_IFMT;
import static io.berth.storage.archive.FileStat.S_IFSOCK;

/**
 * Go's {@code os.FileMode} bits, which Docker sends for a path's mode ({@code X-Docker-Container-Path-Stat}), made
 * from a Unix {@code st_mode}.
 */
final class GoFileMode {

    static final long MODE_DIR = 1L << 31;
    static final long MODE_SYMLINK = 1L << 27;
    static final long MODE_DEVICE = 1L << 26;
    static final long MODE_NAMED_PIPE = 1L << 25;
    static final long MODE_SOCKET = 1L << 24;
    static final long MODE_SETUID = 1L << 23;
    static final long MODE_SETGID = 1L << 22;
    static final long MODE_CHAR_DEVICE = 1L << 21;
    static final long MODE_STICKY = 1L << 20;

    private GoFileMode() {
    }

    static long of(int unixMode) {
        long mode = unixMode & 0777;
        mode |= switch (unixMode & S_IFMT) {
            case S_IFDIR -> MODE_DIR;
            case S_IFLNK -> MODE_SYMLINK;
            case S_IFBLK -> MODE_DEVICE;
            case S_IFCHR -> MODE_DEVICE | MODE_CHAR_DEVICE;
            case S_IFIFO -> MODE_NAMED_PIPE;
            case S_IFSOCK -> MODE_SOCKET;
            default -> 0L;
        };
        if ((unixMode & 04000) != 0) {
            mode |= MODE_SETUID;
        }
        if ((unixMode & 02000) != 0) {
            mode |= MODE_SETGID;
        }
        if ((unixMode & 01000) != 0) {
            mode |= MODE_STICKY;
        }
        return mode;
    }
}
