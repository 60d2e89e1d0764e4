package io.berth.storage.support;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * A layer's own size for drivers whose child layers are snapshots of their
 * parent (btrfs subvolumes, device-mapper thin devices): what Docker reports
 * as a layer's size, the bytes of the regular files the layer changed or
 * added relative to its parent. Block counts cannot tell it (a snapshot's
 * blocks are shared until written, and "exclusive" counts drop to 0 once a
 * layer has a child). A snapshot keeps inode numbers, and a file's change time
 * moves on every change, so a file is unchanged when its parent has the same
 * path with the same inode number and change time.
 */
public final class SnapshotUsage {

    private SnapshotUsage() {
    }

    /**
     * The bytes of the regular files below {@code dir} that are not unchanged
     * copies of the same path below {@code parentDir}; every file counts when
     * {@code parentDir} is {@code null} (a base layer). Hard links count once.
     */
    public static long changedBytes(Path dir, Path parentDir) throws IOException {
        long[] bytes = {0};
        Set<Object> seen = new HashSet<>();
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (!attrs.isRegularFile() || !seen.add(attrs.fileKey())) {
                    return FileVisitResult.CONTINUE;
                }
                if (parentDir == null || !unchanged(file, parentDir.resolve(dir.relativize(file)))) {
                    bytes[0] += attrs.size();
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE; // deleted while we walk: a running container
                }
                throw e;
            }
        });
        return bytes[0];
    }

    /** Whether {@code file} is the snapshot of {@code inParent}, untouched since. */
    private static boolean unchanged(Path file, Path inParent) throws IOException {
        Map<String, Object> mine;
        Map<String, Object> theirs;
        try {
            mine = Files.readAttributes(file, "unix:ino,ctime", LinkOption.NOFOLLOW_LINKS);
            theirs = Files.readAttributes(inParent, "unix:ino,ctime", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return false;
        }
        return mine.get("ino").equals(theirs.get("ino")) && mine.get("ctime").equals(theirs.get("ctime"));
    }
}
