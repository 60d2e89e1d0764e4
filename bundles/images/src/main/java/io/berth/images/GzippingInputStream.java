package io.berth.images;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipParameters;

/**
 * The gzip of a stream, compressed as it is read, so that {@code content.write(new GzippingInputStream(tar, ...))}
 * compresses straight into the content store: no temporary file and no second thread. (A PipedInputStream fed by a
 * compressing thread would do the same, but its two ends take turns rather than overlap, waking each other only
 * when the buffer is full or empty, or once a second.) Commons Compress writes the gzip format; this class only
 * turns its output stream around.
 */
final class GzippingInputStream extends InputStream {

    private static final int CHUNK = 1 << 16;

    private final InputStream source;
    private final Compressed compressed = new Compressed();
    private final GzipCompressorOutputStream gzip;
    private final byte[] chunk = new byte[CHUNK];
    /** How much of {@code compressed} has been read already. */
    private int position;
    private boolean finished;

    /** Compresses {@code source} (which this stream closes) with {@code parameters}. */
    GzippingInputStream(InputStream source, GzipParameters parameters) throws IOException {
        this.source = source;
        this.gzip = new GzipCompressorOutputStream(compressed, parameters); // writes the header into the buffer
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
        if (length == 0) {
            return 0;
        }
        while (position == compressed.size()) {
            if (finished) {
                return -1;
            }
            compressed.reset();
            position = 0;
            int n = source.read(chunk);
            if (n < 0) {
                gzip.finish(); // the last deflate block and the trailer (CRC-32 and size)
                finished = true;
            } else {
                gzip.write(chunk, 0, n); // may give no output yet: the deflater keeps a window
            }
        }
        int n = Math.min(length, compressed.size() - position);
        System.arraycopy(compressed.bytes(), position, bytes, offset, n);
        position += n;
        return n;
    }

    @Override
    public void close() throws IOException {
        try (source) {
            gzip.close(); // frees the deflater's native memory
        }
    }

    /** The compressor's output, read in place rather than copied out by {@code toByteArray()}. */
    private static final class Compressed extends ByteArrayOutputStream {
        Compressed() {
            super(2 * CHUNK);
        }

        byte[] bytes() {
            return buf;
        }
    }
}
