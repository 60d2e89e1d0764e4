package io.berth.runtime.oci;

import io.berth.spi.runtime.Attachment;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * A connection to conmon's attach socket: each packet conmon sends is one stream byte (2 stdout, 3 stderr) and
 * the data; what is sent is the process's stdin; a half close (SHUT_WR) is its EOF. The terminal is resized
 * through conmon's {@code ctl} fifo beside the socket.
 */
final class ConmonAttachment implements Attachment {

    /** conmon's attach buffer is 8 KiB plus the stream byte. */
    private static final int PACKET = 8192 + 1;
    private static final int CONMON_STDOUT = 2;
    private static final int CONMON_STDERR = 3;

    private final int fd;
    private final Path ctl;
    private final byte[] buffer = new byte[PACKET];
    private volatile boolean closed;

    private ConmonAttachment(int fd, Path ctl) {
        this.fd = fd;
        this.ctl = ctl;
    }

    /** Connects through {@code dir}, conmon's short link to the container's bundle directory. */
    static ConmonAttachment connect(Path dir) throws IOException {
        return new ConmonAttachment(Posix.connectSeqpacket(dir.resolve("attach")), dir.resolve("ctl"));
    }

    @Override
    public synchronized Output read() throws IOException {
        while (!closed) {
            int n = Posix.receive(fd, buffer);
            if (n <= 0) {
                return null;
            }
            int stream = buffer[0];
            if (n > 1 && (stream == CONMON_STDOUT || stream == CONMON_STDERR)) {
                return new Output(stream == CONMON_STDOUT ? STDOUT : STDERR, Arrays.copyOfRange(buffer, 1, n));
            }
        }
        return null;
    }

    @Override
    public OutputStream stdin() {
        return new OutputStream() {
            private boolean shut;

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] data, int offset, int length) throws IOException {
                for (int done = 0; done < length; ) {
                    int chunk = Math.min(PACKET - 1, length - done);
                    Posix.send(fd, Arrays.copyOfRange(data, offset + done, offset + done + chunk), chunk);
                    done += chunk;
                }
            }

            @Override
            public void close() {
                if (!shut) {
                    shut = true;
                    Posix.shutdown(fd, Posix.SHUT_WR);
                }
            }
        };
    }

    @Override
    public void resize(int rows, int columns) throws IOException {
        // conmon's control message 1: a new window size
        Files.writeString(ctl, "1 " + rows + " " + columns + "\n", StandardCharsets.US_ASCII,
                StandardOpenOption.WRITE);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Posix.shutdown(fd, Posix.SHUT_RDWR); // wakes a read blocked in recv
            Posix.close(fd);
        }
    }
}
