package io.berth.images;

import io.berth.spi.images.ContentStore;
import io.berth.storage.support.DiskFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The content store on disk: {@code <root>/blobs/sha256/<hex>} per blob.
 * A blob is streamed into a uniquely named temporary file under
 * {@code <root>/ingest/} (same file system) while it is hashed, checked against
 * the expected digest and size, synced, and renamed into place; the directory
 * is synced after the rename. A file under {@code blobs/} is therefore always
 * whole and correct, and a crash leaves at most temporary files in
 * {@code ingest/}, which the next start removes.
 *
 * <p>Two writers of the same blob may race: each renames its own, identical,
 * file into place and the second rename simply replaces the first.
 */
public final class FileContentStore implements ContentStore {

    private static final System.Logger LOG = System.getLogger("berth.images");
    private static final String SHA256 = "sha256";
    private static final String PREFIX = SHA256 + ":";
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");
    /** An algorithm name as the OCI image spec allows it. */
    private static final Pattern ALGORITHM = Pattern.compile("[a-z0-9]+(?:[+._-][a-z0-9]+)*");
    private static final int BUFFER_SIZE = 1 << 20;

    private final Path blobs;
    private final Path ingest;

    /**
     * Opens (creating if needed) the store at {@code root} and removes whatever
     * an interrupted write left in {@code ingest/}.
     */
    public FileContentStore(Path root) throws IOException {
        Path base = Files.createDirectories(root).toAbsolutePath();
        this.blobs = Files.createDirectories(base.resolve("blobs").resolve(SHA256));
        this.ingest = Files.createDirectories(base.resolve("ingest"));
        cleanIngest();
        DiskFiles.syncDirectory(base.resolve("blobs"));
        DiskFiles.syncDirectory(base);
    }

    @Override
    public String write(InputStream content, String expectedDigest, long expectedSize) throws IOException {
        String expectedHex = expectedDigest == null ? null : hex(expectedDigest);
        MessageDigest sha256 = newSha256();
        Path temp = Files.createTempFile(ingest, "blob-", ".partial");
        boolean moved = false;
        try {
            long count = 0;
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                byte[] buffer = new byte[BUFFER_SIZE];
                ByteBuffer wrapped = ByteBuffer.wrap(buffer);
                int read;
                while ((read = content.readNBytes(buffer, 0, buffer.length)) > 0) {
                    count += read;
                    if (expectedSize >= 0 && count > expectedSize) {
                        throw new IOException("size mismatch for " + describe(expectedDigest) + ": expected "
                                + expectedSize + " bytes, got more than " + expectedSize);
                    }
                    sha256.update(buffer, 0, read);
                    wrapped.clear().limit(read);
                    while (wrapped.hasRemaining()) {
                        channel.write(wrapped);
                    }
                }
                if (expectedSize >= 0 && count != expectedSize) {
                    throw new IOException("size mismatch for " + describe(expectedDigest) + ": expected "
                            + expectedSize + " bytes, got " + count);
                }
                String actualHex = HexFormat.of().formatHex(sha256.digest());
                if (expectedHex != null && !expectedHex.equals(actualHex)) {
                    throw new IOException("digest mismatch: expected " + expectedDigest + ", got " + PREFIX
                            + actualHex + " (" + count + " bytes)");
                }
                channel.force(true);
                Path target = blobs.resolve(actualHex);
                if (!Files.exists(target)) {
                    channel.close();
                    // On an existing target (a concurrent writer of the same blob) rename(2)
                    // atomically replaces it with an identical file.
                    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
                    moved = true;
                    DiskFiles.syncDirectory(blobs);
                }
                return PREFIX + actualHex;
            }
        } finally {
            if (!moved) {
                deleteQuietly(temp);
            }
        }
    }

    @Override
    public InputStream read(String digest) throws IOException {
        Path file = path(digest);
        try {
            return Files.newInputStream(file);
        } catch (NoSuchFileException e) {
            throw notFound(digest);
        }
    }

    @Override
    public boolean exists(String digest) {
        return Files.isRegularFile(path(digest));
    }

    @Override
    public long size(String digest) throws IOException {
        Path file = path(digest);
        try {
            return Files.size(file);
        } catch (NoSuchFileException e) {
            return -1;
        }
    }

    @Override
    public boolean delete(String digest) throws IOException {
        boolean deleted = Files.deleteIfExists(path(digest));
        if (deleted) {
            DiskFiles.syncDirectory(blobs);
        }
        return deleted;
    }

    @Override
    public List<String> list() throws IOException {
        List<String> digests = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(blobs)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (HEX.matcher(name).matches()) {
                    digests.add(PREFIX + name);
                }
            }
        }
        Collections.sort(digests);
        return digests;
    }

    /**
     * Hashes the stored blob again (for the garbage collector and fsck).
     *
     * @return whether the file's content still matches its digest
     * @throws NoSuchFileException if the blob is not stored
     */
    boolean verify(String digest) throws IOException {
        String hex = hex(digest);
        MessageDigest sha256 = newSha256();
        try (FileChannel channel = FileChannel.open(blobs.resolve(hex), StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(BUFFER_SIZE);
            while (channel.read(buffer.clear()) >= 0) {
                sha256.update(buffer.flip());
            }
        } catch (NoSuchFileException e) {
            throw notFound(digest);
        }
        return hex.equals(HexFormat.of().formatHex(sha256.digest()));
    }

    /** The blob's file; the digest is validated first, so it can never name anything else. */
    Path path(String digest) {
        return blobs.resolve(hex(digest));
    }

    /** The 64 hex digits of a {@code sha256:<hex>} digest; anything else is refused. */
    static String hex(String digest) {
        if (digest == null) {
            throw new IllegalArgumentException("digest is null");
        }
        int colon = digest.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("invalid digest \"" + digest + "\": expected sha256:<64 hex digits>");
        }
        String algorithm = digest.substring(0, colon);
        if (!algorithm.equals(SHA256)) {
            if (ALGORITHM.matcher(algorithm).matches()) {
                throw new IllegalArgumentException("unsupported digest algorithm \"" + algorithm + "\" in "
                        + digest + ": only sha256 is supported");
            }
            throw new IllegalArgumentException("invalid digest \"" + digest + "\": expected sha256:<64 hex digits>");
        }
        String hex = digest.substring(colon + 1);
        if (!HEX.matcher(hex).matches()) {
            throw new IllegalArgumentException("invalid digest \"" + digest
                    + "\": expected sha256: followed by 64 lowercase hex digits");
        }
        return hex;
    }

    private void cleanIngest() throws IOException {
        int removed = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(ingest)) {
            for (Path entry : entries) {
                DiskFiles.deleteTree(entry);
                removed++;
            }
        }
        if (removed > 0) {
            LOG.log(System.Logger.Level.INFO, "removed {0} unfinished blob write(s) from {1}", removed, ingest);
            DiskFiles.syncDirectory(ingest);
        }
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "could not remove " + path, e);
        }
    }

    private static NoSuchFileException notFound(String digest) {
        return new NoSuchFileException(digest, null, "blob not found in content store");
    }

    private static String describe(String digest) {
        return digest == null ? "blob" : digest;
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }
}
