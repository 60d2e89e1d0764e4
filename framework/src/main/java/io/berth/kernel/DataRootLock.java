package io.berth.kernel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The exclusive claim of one daemon on a data-root: an fcntl lock on
 * {@code <data-root>/berth.lock}, which also holds the owner's pid. The kernel
 * releases it on exit, so a {@code kill -9} leaves no stale lock behind.
 */
public final class DataRootLock implements AutoCloseable {

    public static final String FILE_NAME = "berth.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private DataRootLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    public static DataRootLock acquire(Path dataRoot) throws IOException, UsageException {
        Path file = dataRoot.resolve(FILE_NAME);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            String owner = Files.readString(file, StandardCharsets.UTF_8).trim();
            channel.close();
            throw new UsageException("data-root " + dataRoot + " is in use by another berth daemon"
                    + (owner.isEmpty() ? "" : " (pid " + owner + ")")
                    + "; only one daemon may own a data-root (lock: " + file + ")");
        }
        channel.truncate(0);
        channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
        channel.force(true);
        return new DataRootLock(channel, lock);
    }

    @Override
    public void close() throws IOException {
        try {
            channel.truncate(0);
            lock.release();
        } finally {
            channel.close();
        }
    }
}
