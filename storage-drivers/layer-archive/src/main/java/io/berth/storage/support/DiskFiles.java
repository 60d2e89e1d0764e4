package io.berth.storage.support;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * File operations a driver's on-disk records and layer directories need:
 * crash-safe writes of small records, reads of them, and whole-tree deletes.
 * Drivers keep their state in plain files so a new driver instance (after a
 * bundle update or a crash) can pick it up; these make that state survive a
 * crash at any moment.
 */
public final class DiskFiles {

    /** What {@code open(2)} with {@code O_CREAT} asks for; the umask takes away the rest. */
    private static final Set<PosixFilePermission> DEFAULT_MODE = PosixFilePermissions.fromString("rw-rw-rw-");
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    /** How the temp files of {@link #writeAtomically} start; one is left only when the process dies mid-write. */
    public static final String TEMP_PREFIX = ".tmp-";

    private DiskFiles() {
    }

    /**
     * Replaces {@code file} with {@code content} so that a crash at any moment
     * leaves either the old or the new content: a uniquely named temp file
     * beside it, fsync, rename, fsync of the directory. A new file gets the
     * mode new files get (0666 less the umask).
     */
    public static void writeAtomically(Path file, String content) throws IOException {
        writeAtomically(file, content.getBytes(StandardCharsets.UTF_8), DEFAULT_MODE);
    }

    /** As {@link #writeAtomically(Path, String)}, for bytes (e.g. a JSON record). */
    public static void writeAtomically(Path file, byte[] content) throws IOException {
        writeAtomically(file, content, DEFAULT_MODE);
    }

    /** As {@link #writeAtomically(Path, String)}, but the file is readable and writable by its owner only (0600). */
    public static void writeAtomicallyOwnerOnly(Path file, String content) throws IOException {
        writeAtomically(file, content.getBytes(StandardCharsets.UTF_8), OWNER_ONLY);
    }

    private static void writeAtomically(Path file, byte[] content, Set<PosixFilePermission> mode) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        FileAttribute<Set<PosixFilePermission>> permissions = PosixFilePermissions.asFileAttribute(mode);
        Path temp = Files.createTempFile(dir, TEMP_PREFIX + file.getFileName() + "-", "", permissions);
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer bytes = ByteBuffer.wrap(content);
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
                channel.force(true);
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
        syncDirectory(dir);
    }

    /** Makes a rename or create inside {@code dir} durable. */
    public static void syncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    /** The trimmed content of a small text file, or {@code null} if it does not exist. */
    public static String readOrNull(Path file) throws IOException {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).trim();
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /**
     * Deletes a tree without following symbolic links (a link is deleted, not
     * what it points to); a missing tree is fine.
     */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path directory, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                Files.delete(directory);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /**
     * The sum of the sizes of everything but directories below {@code tree},
     * symbolic links counted as themselves: the apparent size of a layer's
     * content, as Docker reports it.
     */
    public static long sizeOfContent(Path tree) throws IOException {
        long[] bytes = {0};
        Files.walkFileTree(tree, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                bytes[0] += attrs.size();
                return FileVisitResult.CONTINUE;
            }
        });
        return bytes[0];
    }
}
