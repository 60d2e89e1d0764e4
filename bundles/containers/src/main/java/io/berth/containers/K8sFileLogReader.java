package io.berth.containers;

import io.berth.spi.containers.LogOptions;
import io.berth.spi.containers.LogReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.function.BooleanSupplier;

/**
 * Reads a container log in conmon's k8s-file format, one record per line: {@code TIME STREAM P|F TEXT}, where
 * {@code P} marks a partial line that the next records of the same stream continue and {@code F} ends it. Partial
 * records are joined into one entry. Following polls the file for new records; it ends when the writer has
 * stopped and the file is drained, at {@code until}, or when the reader is closed. A log truncated by the
 * supervisor's size limit is read again from its start.
 */
final class K8sFileLogReader implements LogReader {

    /** How often a follow looks for new records. */
    private static final long POLL_MILLIS = 50;

    private final Path file;
    private final LogOptions options;
    private final BooleanSupplier writing;
    private final Deque<Entry> ready = new ArrayDeque<>();
    /** Partial lines waiting for their end, per stream (index 1 stdout, 2 stderr). */
    private final ByteArrayOutputStream[] partial = {null, new ByteArrayOutputStream(), new ByteArrayOutputStream()};
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private FileChannel channel;
    private long position;
    private boolean ended;
    private volatile boolean closed;

    /**
     * @param writing whether output may still be appended (the container runs); a follow ends once it is false
     *                and everything written has been read
     */
    K8sFileLogReader(Path file, LogOptions options, BooleanSupplier writing) throws IOException {
        this.file = file;
        this.options = options;
        this.writing = writing;
        readAvailable();
        if (options.tail() >= 0) {
            while (ready.size() > options.tail()) {
                ready.removeFirst();
            }
        }
    }

    @Override
    public Entry next() throws IOException {
        while (!closed) {
            if (!ready.isEmpty()) {
                return ready.removeFirst();
            }
            if (ended || !options.follow()) {
                return null;
            }
            boolean stillWriting = writing.getAsBoolean();
            if (readAvailable() > 0) {
                continue;
            }
            if (!stillWriting) {
                return null; // nothing more was written after it stopped
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        closed = true;
        synchronized (this) {
            if (channel != null) {
                channel.close();
            }
        }
    }

    /** Reads what was appended since the last call; returns how many bytes that was. */
    private synchronized int readAvailable() throws IOException {
        if (closed) {
            return 0;
        }
        if (channel == null) {
            try {
                channel = FileChannel.open(file, StandardOpenOption.READ);
            } catch (NoSuchFileException notYet) {
                return 0; // the supervisor creates it when the container starts
            }
        }
        if (channel.size() < position) {
            position = 0; // truncated at its size limit: the supervisor starts it again
            line.reset();
        }
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        int total = 0;
        int read;
        while ((read = channel.read(buffer, position)) > 0) {
            position += read;
            total += read;
            byte[] bytes = buffer.array();
            for (int i = 0; i < read; i++) {
                if (bytes[i] == '\n') {
                    record(line.toByteArray());
                    line.reset();
                } else {
                    line.write(bytes[i]);
                }
            }
            buffer.clear();
        }
        return total;
    }

    /** One record: {@code TIME STREAM P|F TEXT}; malformed ones are skipped. */
    private void record(byte[] record) {
        int first = indexOf(record, 0);
        int second = first < 0 ? -1 : indexOf(record, first + 1);
        if (second < 0) {
            return;
        }
        int third = indexOf(record, second + 1);
        String tag = new String(record, second + 1, (third < 0 ? record.length : third) - second - 1,
                StandardCharsets.US_ASCII);
        byte[] text = third < 0 ? new byte[0] : Arrays.copyOfRange(record, third + 1, record.length);
        Instant time;
        try {
            time = OffsetDateTime.parse(new String(record, 0, first, StandardCharsets.US_ASCII)).toInstant();
        } catch (DateTimeParseException e) {
            return;
        }
        String streamName = new String(record, first + 1, second - first - 1, StandardCharsets.US_ASCII);
        int stream = streamName.equals("stderr") ? 2 : 1;
        ByteArrayOutputStream pending = partial[stream];
        pending.write(text, 0, text.length);
        if (tag.equals("P")) {
            return;
        }
        pending.write('\n');
        byte[] data = pending.toByteArray();
        pending.reset();
        offer(new Entry(time, stream, data));
    }

    private void offer(Entry entry) {
        if (options.until() != null && !entry.time().isBefore(options.until())) {
            ended = true; // a follow ends at until, as Docker's does
            return;
        }
        if (options.since() != null && entry.time().isBefore(options.since())) {
            return;
        }
        if ((entry.stream() == 1 && !options.stdout()) || (entry.stream() == 2 && !options.stderr())) {
            return;
        }
        ready.addLast(entry);
    }

    private static int indexOf(byte[] bytes, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == ' ') {
                return i;
            }
        }
        return -1;
    }
}
