package io.berth.spi.runtime;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;

/**
 * A connection to a process's stdio. Closing it detaches: the process keeps running.
 */
public interface Attachment extends Closeable {

    /** stdout's stream number in {@link Output#stream()}, as in Docker's multiplexed stream. */
    int STDOUT = 1;
    /** stderr's stream number in {@link Output#stream()}. */
    int STDERR = 2;

    /** A chunk of output. With a TTY everything is {@link #STDOUT}. */
    record Output(int stream, byte[] data) {
    }

    /** The next chunk of output, blocking; {@code null} once the process has closed its output. */
    Output read() throws IOException;

    /** The process's stdin; closing it sends EOF (a half close) and keeps the output flowing. */
    OutputStream stdin() throws IOException;

    /** Resizes the process's terminal; ignored without one. */
    void resize(int rows, int columns) throws IOException;
}
