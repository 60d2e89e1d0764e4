package io.berth.spi.containers;

import java.io.Closeable;
import java.io.IOException;
import java.time.Instant;

/**
 * A container's log, entry by entry. Closing it ends a follow at once.
 */
public interface LogReader extends Closeable {

    /**
     * One line of output as the container wrote it (with its newline, if it had one).
     *
     * @param time   when it was written
     * @param stream 1 for stdout, 2 for stderr
     * @param data   the bytes
     */
    record Entry(Instant time, int stream, byte[] data) {
    }

    /** The next entry, blocking while following; {@code null} at the end. */
    Entry next() throws IOException;
}
