package io.berth.storage.archive;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;

/** What lstat(2) says about a path; never follows a symbolic link. */
public record FileStat(int type, int mode, long uid, long gid, long size, FileTime mtime,
        long dev, long ino, int nlink, long rdev) {

    public static final int S_IFMT = 0170000;
    public static final int S_IFSOCK = 0140000;
    public static final int S_IFLNK = 0120000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFBLK = 0060000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFCHR = 0020000;
    public static final int S_IFIFO = 0010000;

    private static final String ATTRIBUTES = "unix:mode,uid,gid,size,lastModifiedTime,dev,ino,nlink,rdev";

    /** The path's status, or {@code null} if nothing is there. */
    public static FileStat lstat(Path path) throws IOException {
        Map<String, Object> attributes;
        try {
            attributes = Files.readAttributes(path, ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        }
        int mode = (Integer) attributes.get("mode");
        return new FileStat(mode & S_IFMT, mode & 07777,
                ((Integer) attributes.get("uid")) & 0xffffffffL,
                ((Integer) attributes.get("gid")) & 0xffffffffL,
                (Long) attributes.get("size"),
                (FileTime) attributes.get("lastModifiedTime"),
                (Long) attributes.get("dev"),
                (Long) attributes.get("ino"),
                (Integer) attributes.get("nlink"),
                (Long) attributes.get("rdev"));
    }

    public boolean isDirectory() {
        return type == S_IFDIR;
    }

    public boolean isRegularFile() {
        return type == S_IFREG;
    }

    public boolean isSymbolicLink() {
        return type == S_IFLNK;
    }

    public boolean isDevice() {
        return type == S_IFCHR || type == S_IFBLK;
    }

    /** An overlayfs whiteout: a character device with device number 0/0. */
    boolean isOverlayWhiteout() {
        return type == S_IFCHR && rdev == 0;
    }

    /** Linux's major(3) of {@link #rdev}. */
    public long major() {
        return ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
    }

    /** Linux's minor(3) of {@link #rdev}. */
    public long minor() {
        return (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
    }
}
