package io.berth.storage.archive;

import io.berth.spi.driver.DriverStatus;
import io.berth.spi.storage.Change;
import io.berth.spi.storage.DiffDriver;
import io.berth.spi.storage.StorageCapability;
import io.berth.spi.storage.StorageDriver;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Gives diff/applyDiff/changes to a driver without native ones (moby's NaiveDiffDriver):
 * diff = mount layer and parent, {@link TreeDiff}; applyDiff = mount layer,
 * {@link LayerTar#extract} (OCI); changes = {@link TreeDiff#changes}. Always put()s what it
 * get()s. All other methods delegate to the driver.
 */
public final class NaiveDiffDriver implements DiffDriver {

    private final StorageDriver driver;

    private NaiveDiffDriver(StorageDriver driver) {
        this.driver = Objects.requireNonNull(driver, "driver");
    }

    /** The driver itself if it already is a {@link DiffDriver}, else the naive adapter around it. */
    public static DiffDriver of(StorageDriver driver) {
        if (driver instanceof DiffDriver diffDriver) {
            return diffDriver;
        }
        return new NaiveDiffDriver(driver);
    }

    /**
     * The layer's changes as an OCI layer tar, produced while it is read: a background thread
     * keeps the layer (and its parent) mounted until the tar is complete or the stream is closed.
     * An error while producing it is thrown by the stream's read.
     */
    @Override
    public InputStream diff(String id, String parent) throws IOException {
        Path upper = driver.get(id);
        Path lower;
        try {
            lower = parent == null ? null : driver.get(parent);
        } catch (IOException | RuntimeException e) {
            putQuietly(id, e);
            throw e;
        }
        PipeStream pipe = new PipeStream();
        Thread producer = new Thread(() -> {
            Throwable failure = null;
            try {
                TreeDiff.write(lower, upper, pipe.sink());
            } catch (Throwable e) {
                failure = e;
            } finally {
                try {
                    driver.put(id);
                } catch (Throwable e) {
                    failure = failure == null ? e : failure;
                }
                if (parent != null) {
                    try {
                        driver.put(parent);
                    } catch (Throwable e) {
                        failure = failure == null ? e : failure;
                    }
                }
                pipe.finish(failure);
            }
        }, "berth-naive-diff-" + id);
        producer.setDaemon(true);
        producer.start();
        return pipe;
    }

    @Override
    public long applyDiff(String id, String parent, InputStream tar) throws IOException {
        Path dir = driver.get(id);
        try {
            return LayerTar.extract(tar, dir, WhiteoutFormat.OCI);
        } finally {
            driver.put(id);
        }
    }

    @Override
    public List<Change> changes(String id, String parent) throws IOException {
        Path upper = driver.get(id);
        try {
            if (parent == null) {
                return TreeDiff.changes(null, upper);
            }
            Path lower = driver.get(parent);
            try {
                return TreeDiff.changes(lower, upper);
            } finally {
                driver.put(parent);
            }
        } finally {
            driver.put(id);
        }
    }

    private void putQuietly(String id, Throwable primary) {
        try {
            driver.put(id);
        } catch (IOException | RuntimeException e) {
            primary.addSuppressed(e);
        }
    }

    // --- delegation -----------------------------------------------------------------------------

    @Override
    public void create(String id, String parent) throws IOException {
        driver.create(id, parent);
    }

    @Override
    public void createReadWrite(String id, String parent) throws IOException {
        driver.createReadWrite(id, parent);
    }

    @Override
    public Path get(String id) throws IOException {
        return driver.get(id);
    }

    @Override
    public void put(String id) throws IOException {
        driver.put(id);
    }

    @Override
    public boolean exists(String id) {
        return driver.exists(id);
    }

    @Override
    public void remove(String id) throws IOException {
        driver.remove(id);
    }

    @Override
    public long usage(String id) throws IOException {
        return driver.usage(id);
    }

    @Override
    public String parent(String id) throws IOException {
        return driver.parent(id);
    }

    @Override
    public Set<StorageCapability> capabilities() {
        return driver.capabilities();
    }

    @Override
    public DriverStatus status() {
        return driver.status();
    }

    @Override
    public String toString() {
        return "naive diffs over " + driver;
    }

    /**
     * A bounded in-memory pipe from the producer thread to the reader: chunks of up to 1 MiB,
     * at most 8 in flight. Closing the reading side makes the producer's next write fail, so it
     * stops and releases its mounts.
     */
    private static final class PipeStream extends InputStream {

        private static final byte[] END = new byte[0];

        private final BlockingQueue<byte[]> chunks = new ArrayBlockingQueue<>(8);
        private volatile boolean closed;
        private volatile Throwable failure;
        private byte[] current;
        private int position;
        private boolean ended;

        OutputStream sink() {
            return new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] bytes, int offset, int length) throws IOException {
                    while (length > 0) {
                        int n = Math.min(length, 1 << 20);
                        byte[] chunk = java.util.Arrays.copyOfRange(bytes, offset, offset + n);
                        offer(chunk);
                        offset += n;
                        length -= n;
                    }
                }
            };
        }

        private void offer(byte[] chunk) throws IOException {
            try {
                while (!chunks.offer(chunk, 100, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                    if (closed) {
                        throw new IOException("the diff stream was closed by its reader");
                    }
                }
                if (closed) {
                    throw new IOException("the diff stream was closed by its reader");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while producing a diff");
            }
        }

        /** Called once by the producer when it is done, with what went wrong if anything. */
        void finish(Throwable failure) {
            this.failure = failure;
            try {
                while (!closed && !chunks.offer(END, 100, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                    // wait for room or for the reader to go away
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] bytes, int offset, int length) throws IOException {
            Objects.checkFromIndexSize(offset, length, bytes.length);
            if (closed) {
                throw new IOException("stream closed");
            }
            if (length == 0) {
                return 0;
            }
            while (current == null || position == current.length) {
                if (ended) {
                    return -1;
                }
                try {
                    current = chunks.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while reading a diff");
                }
                position = 0;
                if (current == END) {
                    ended = true;
                    current = null;
                    Throwable problem = failure;
                    if (problem != null) {
                        throw problem instanceof IOException io ? new IOException(io.getMessage(), io)
                                : new IOException("producing the diff failed: " + problem, problem);
                    }
                    return -1;
                }
            }
            int n = Math.min(length, current.length - position);
            System.arraycopy(current, position, bytes, offset, n);
            position += n;
            return n;
        }

        @Override
        public void close() {
            closed = true;
            chunks.clear();
        }
    }
}
