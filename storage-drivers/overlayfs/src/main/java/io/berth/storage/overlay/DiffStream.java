package io.berth.storage.overlay;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;

/**
 * A layer tar produced on its own thread while the caller reads it, so a diff
 * of a large layer needs neither memory nor a temporary file. An error of the
 * producer reaches the reader as an {@link IOException} instead of a short tar;
 * a reader that closes early stops the producer.
 */
final class DiffStream extends InputStream {

    /** Writes the whole tar to {@code out}. */
    interface Producer {
        void writeTo(OutputStream out) throws IOException;
    }

    private static final int PIPE_BUFFER = 1 << 20;

    private final PipedInputStream in;
    private volatile Throwable failure;

    private DiffStream(PipedInputStream in) {
        this.in = in;
    }

    static InputStream start(String name, Producer producer) throws IOException {
        PipedInputStream in = new PipedInputStream(PIPE_BUFFER);
        PipedOutputStream pipe = new PipedOutputStream(in);
        DiffStream stream = new DiffStream(in);
        Thread thread = new Thread(() -> {
            OutputStream out = new BufferedOutputStream(pipe, 64 * 1024);
            try {
                producer.writeTo(out);
                out.flush();
            } catch (Throwable e) {
                // Recorded before the pipe closes, so the reader never mistakes a failure for the end of the tar.
                stream.failure = e;
            } finally {
                try {
                    pipe.close();
                } catch (IOException ignored) {
                    // the reader already went away
                }
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
        return stream;
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b < 0) {
            checkFailure();
        }
        return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        int n;
        try {
            n = in.read(buffer, offset, length);
        } catch (IOException e) {
            checkFailure();
            throw e;
        }
        if (n < 0) {
            checkFailure();
        }
        return n;
    }

    @Override
    public int available() throws IOException {
        return in.available();
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    private void checkFailure() throws IOException {
        Throwable e = failure;
        if (e instanceof IOException io) {
            throw new IOException("writing the layer diff failed: " + io.getMessage(), io);
        }
        if (e != null) {
            throw new IOException("writing the layer diff failed: " + e, e);
        }
    }
}
