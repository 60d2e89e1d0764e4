package io.berth.storage.archive;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Buffers and counts the bytes read through it and, while recording, keeps a copy of them. The tar
 * reader records what Commons Compress consumes while it parses an entry's headers, so that
 * the raw PAX records can be read again byte-exactly (see {@link RawHeaders}).
 */
final class RecordingInputStream extends FilterInputStream {

    /** More header bytes than this for one entry is an attack, not a layer. */
    static final int MAX_RECORDED = 64 << 20;

    private long position;
    private boolean recording;
    private long recordingStart;
    private byte[] recorded = new byte[4096];
    private int recordedLength;

    /** Read-ahead buffer (our own: BufferedInputStream asks the source's available() on every read). */
    private final byte[] buffer = new byte[1 << 16];
    private final byte[] one = new byte[1];
    private int bufferStart;
    private int bufferEnd;

    RecordingInputStream(InputStream in) {
        super(in);
    }

    /** Reads from the read-ahead buffer, refilling it with one read of the source if it is empty. */
    private int fill(byte[] target, int offset, int length) throws IOException {
        if (bufferStart == bufferEnd) {
            if (length >= buffer.length) {
                return in.read(target, offset, length);
            }
            int n = in.read(buffer, 0, buffer.length);
            if (n <= 0) {
                return n;
            }
            bufferStart = 0;
            bufferEnd = n;
        }
        int n = Math.min(length, bufferEnd - bufferStart);
        System.arraycopy(buffer, bufferStart, target, offset, n);
        bufferStart += n;
        return n;
    }

    /** Starts keeping a copy of what is read from now on. */
    void startRecording() {
        recording = true;
        recordingStart = position;
        recordedLength = 0;
    }

    /** Stops recording; the copy stays available until the next {@link #startRecording}. */
    void stopRecording() {
        recording = false;
    }

    long recordingStart() {
        return recordingStart;
    }

    byte[] recorded() {
        return recorded;
    }

    int recordedLength() {
        return recordedLength;
    }

    long position() {
        return position;
    }

    @Override
    public int read() throws IOException {
        int n = fill(one, 0, 1);
        int b = n <= 0 ? -1 : one[0] & 0xff;
        if (b >= 0) {
            position++;
            if (recording) {
                ensure(1);
                recorded[recordedLength++] = (byte) b;
            }
        }
        return b;
    }

    @Override
    public int read(byte[] target, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        int n = fill(target, offset, length);
        if (n > 0) {
            position += n;
            if (recording) {
                ensure(n);
                System.arraycopy(target, offset, recorded, recordedLength, n);
                recordedLength += n;
            }
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        // Skipped bytes are read, so that they are counted and recorded like any others.
        byte[] discard = new byte[(int) Math.min(Math.max(n, 0), 65536)];
        long skipped = 0;
        while (skipped < n) {
            int r = read(discard, 0, (int) Math.min(discard.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    @Override
    public int available() {
        return bufferEnd - bufferStart;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    @Override
    public synchronized void mark(int readlimit) {
        // not supported
    }

    @Override
    public synchronized void reset() throws IOException {
        throw new IOException("mark/reset not supported");
    }

    private void ensure(int more) throws IOException {
        if (recordedLength + (long) more > MAX_RECORDED) {
            throw new LayerArchiveException("tar headers of one entry larger than " + (MAX_RECORDED >> 20)
                    + " MiB at offset " + recordingStart + "; refusing the archive");
        }
        if (recordedLength + more > recorded.length) {
            recorded = Arrays.copyOf(recorded, Math.max(recorded.length * 2, recordedLength + more));
        }
    }
}
