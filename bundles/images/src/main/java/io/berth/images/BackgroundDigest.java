package io.berth.images;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.security.MessageDigest;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * A stream that hashes what is read through it on a thread of its own, so that hashing a layer's tar (its diff
 * id) runs beside the extraction that reads it instead of after each read: SHA-256 of a 50 MB layer takes about
 * as long as gunzipping and extracting it. What is read is copied, in chunks, to the hashing thread.
 * {@link #digest} must be called (also after a failure, to end the thread): it returns the digest of every byte
 * read so far.
 */
final class BackgroundDigest extends FilterInputStream {

    private static final int CHUNK = 1 << 18;
    /** Chunks in flight: hashing runs at least as fast as reading, so a few keep both busy. */
    private static final int CHUNKS = 4;
    /** Bytes to hash: the first {@code length} of {@code bytes}. */
    private record Chunk(byte[] bytes, int length) {
    }

    private static final Chunk END = new Chunk(new byte[0], 0);

    private final BlockingQueue<Chunk> full = new ArrayBlockingQueue<>(CHUNKS + 1);
    private final BlockingQueue<byte[]> empty = new ArrayBlockingQueue<>(CHUNKS);
    private final MessageDigest digest;
    private final Thread hasher;
    private byte[] chunk;
    /** How many bytes of {@link #chunk} are filled. */
    private int filled;
    private byte[] result;

    BackgroundDigest(InputStream in, MessageDigest digest) {
        super(in);
        this.digest = digest;
        for (int i = 0; i < CHUNKS; i++) {
            empty.add(new byte[CHUNK]);
        }
        chunk = empty.remove();
        hasher = new Thread(this::hash, "berth-layer-digest");
        hasher.setDaemon(true);
        hasher.start();
    }

    private void hash() {
        try {
            while (true) {
                Chunk next = full.take();
                if (next == END) {
                    return;
                }
                digest.update(next.bytes(), 0, next.length());
                empty.put(next.bytes());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // only when the reader gave up; nobody waits for the result then
        }
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
            add(new byte[] {(byte) b}, 0, 1);
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n > 0) {
            add(b, off, n);
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        // Skipped bytes must be hashed too: read them.
        byte[] buffer = new byte[(int) Math.min(n, 8192)];
        long skipped = 0;
        while (skipped < n) {
            int read = read(buffer, 0, (int) Math.min(buffer.length, n - skipped));
            if (read < 0) {
                break;
            }
            skipped += read;
        }
        return skipped;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    private void add(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = Math.min(len, CHUNK - filled);
            System.arraycopy(b, off, chunk, filled, n);
            filled += n;
            off += n;
            len -= n;
            if (filled == CHUNK) {
                handOver();
            }
        }
    }

    private void handOver() throws IOException {
        try {
            full.put(new Chunk(chunk, filled));
            chunk = empty.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            hasher.interrupt();
            throw new InterruptedIOException("interrupted while hashing a layer");
        }
        filled = 0;
    }

    /** The digest of everything read; ends the hashing thread. */
    byte[] digest() throws IOException {
        if (result == null) {
            if (filled > 0) {
                handOver();
            }
            try {
                full.put(END);
                hasher.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                hasher.interrupt();
                throw new InterruptedIOException("interrupted while hashing a layer");
            }
            result = digest.digest();
        }
        return result;
    }
}
