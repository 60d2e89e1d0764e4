package io.berth.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A remote shell command's stdin: the bytes a {@code berth-shell} client sends on its input request
 * ({@code POST /berth/v1/shell/input/ID}), read by the command. Nothing is asked of the client until the command
 * reads for the first time ({@code onFirstRead}), so a command that never reads stdin costs nothing. The queue is
 * bounded: a client that sends faster than the command reads waits. Once closed (the command has ended), reads
 * see the end and what is still sent is dropped.
 */
final class RemoteStdin extends InputStream {

    private static final byte[] END = new byte[0];

    private final BlockingQueue<byte[]> chunks = new ArrayBlockingQueue<>(16);
    private final Runnable onFirstRead;
    private boolean asked;
    private byte[] current = new byte[0];
    private int position;
    private boolean ended;
    private volatile boolean closed;

    RemoteStdin(Runnable onFirstRead) {
        this.onFirstRead = onFirstRead;
    }

    /** Adds what the client sent; waits while the queue is full. {@code false} once the command has ended. */
    boolean feed(byte[] bytes) throws InterruptedException {
        while (!closed) {
            if (chunks.offer(bytes, 100, TimeUnit.MILLISECONDS)) {
                return true;
            }
        }
        return false;
    }

    /** The client's stdin ended: the command reads EOF after what came before. */
    void endOfInput() throws InterruptedException {
        feed(END);
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public synchronized int read(byte[] buffer, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        if (!asked) {
            asked = true;
            onFirstRead.run();
        }
        while (position == current.length) {
            if (ended || closed) {
                return -1;
            }
            try {
                current = chunks.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while reading stdin");
            }
            position = 0;
            if (current == END) {
                ended = true;
            }
        }
        int n = Math.min(length, current.length - position);
        System.arraycopy(current, position, buffer, offset, n);
        position += n;
        return n;
    }

    @Override
    public int available() {
        return current.length - position;
    }

    /** The command has ended: a reader still waiting sees the end, and whoever feeds stops. */
    @Override
    public void close() {
        closed = true;
        chunks.clear();
        chunks.offer(END);
    }
}
