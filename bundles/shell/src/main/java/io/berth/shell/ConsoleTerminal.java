package io.berth.shell;

import io.berth.spi.shell.CallerTerminal;
import io.berth.spi.shell.TerminalSize;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.function.Consumer;
import java.nio.charset.StandardCharsets;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Attributes;
import org.jline.terminal.Size;
import org.jline.terminal.Terminal;
import org.jline.utils.NonBlockingInputStream;

/**
 * The {@code berthd --shell} console's JLine terminal as a {@link CallerTerminal}. Loaded only when a session
 * has one, so the shell runs without JLine (its import is optional).
 */
final class ConsoleTerminal implements CallerTerminal {

    private final Terminal terminal;
    private Attributes saved;

    private ConsoleTerminal(Terminal terminal) {
        this.terminal = terminal;
    }

    /**
     * The console's caller: its terminal, and stdin read from the terminal in short waits, so that a thread
     * reading it stops when interrupted instead of taking the next key meant for the console.
     */
    static Caller caller(Object console, InputStream fallback) {
        if (!(console instanceof Terminal terminal)) {
            return new Caller(fallback, null);
        }
        InputStream stdin = terminal.input() instanceof NonBlockingInputStream keys ? interruptible(keys) : fallback;
        return new Caller(stdin, lines(terminal), new ConsoleTerminal(terminal));
    }

    /**
     * Stdin as lines edited on a line reader of its own, Ctrl-D on an empty line being the end: the terminal's own
     * line discipline cannot be used, as JLine's timed reads cannot tell its end of file from a timeout. For the
     * same reason the terminal stays in raw mode from the first line until the stream is closed (or ends): between
     * two lines a cooked terminal would take a Ctrl-D typed then as its own end of file, which JLine never sees.
     */
    private static InputStream lines(Terminal terminal) {
        LineReader reader = LineReaderBuilder.builder().terminal(terminal).appName("berth-stdin").build();
        return new InputStream() {
            private byte[] line = new byte[0];
            private int position;
            private boolean ended;
            /** The terminal's attributes before this stream made it raw; null while it has not. */
            private Attributes cooked;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public synchronized int read(byte[] buffer, int offset, int length) throws IOException {
                while (position == line.length) {
                    if (ended) {
                        return -1;
                    }
                    if (cooked == null) {
                        cooked = terminal.enterRawMode();
                    }
                    try {
                        line = (reader.readLine() + "\n").getBytes(StandardCharsets.UTF_8);
                        position = 0;
                    } catch (EndOfFileException | UserInterruptException e) {
                        ended = true; // Ctrl-D, Ctrl-C, or the command has ended and interrupted the reader
                        restore();
                    }
                }
                int n = Math.min(length, line.length - position);
                System.arraycopy(line, position, buffer, offset, n);
                position += n;
                return n;
            }

            @Override
            public synchronized void close() {
                restore();
            }

            private void restore() {
                if (cooked != null) {
                    terminal.setAttributes(cooked);
                    cooked = null;
                }
            }
        };
    }

    private static InputStream interruptible(NonBlockingInputStream keys) {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                while (true) {
                    if (Thread.currentThread().isInterrupted()) {
                        throw new InterruptedIOException("stopped reading the console");
                    }
                    int c = keys.read(100);
                    if (c != NonBlockingInputStream.READ_EXPIRED) {
                        return c;
                    }
                }
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                if (length == 0) {
                    return 0;
                }
                int c = read();
                if (c < 0) {
                    return -1;
                }
                buffer[offset] = (byte) c;
                int n = 1;
                while (n < length && keys.available() > 0) {
                    int next = keys.read(1);
                    if (next < 0 || next == NonBlockingInputStream.READ_EXPIRED) {
                        break;
                    }
                    buffer[offset + n++] = (byte) next;
                }
                return n;
            }
        };
    }

    @Override
    public TerminalSize size() {
        Size size = terminal.getSize();
        return new TerminalSize(size.getRows(), size.getColumns());
    }

    @Override
    public synchronized void raw(boolean raw) {
        if (raw && saved == null) {
            saved = terminal.enterRawMode();
            // the rest of docker's raw mode (cfmakeraw): ctrl-c goes to the container, its output is shown as it is
            Attributes attributes = terminal.getAttributes();
            attributes.setLocalFlag(Attributes.LocalFlag.ISIG, false);
            attributes.setOutputFlag(Attributes.OutputFlag.OPOST, false);
            attributes.setControlChar(Attributes.ControlChar.VMIN, 1);
            attributes.setControlChar(Attributes.ControlChar.VTIME, 0);
            terminal.setAttributes(attributes);
        } else if (!raw && saved != null) {
            terminal.setAttributes(saved);
            saved = null;
        }
    }

    @Override
    public AutoCloseable onResize(Consumer<TerminalSize> listener) {
        Terminal.SignalHandler previous = terminal.handle(Terminal.Signal.WINCH, signal -> listener.accept(size()));
        return () -> terminal.handle(Terminal.Signal.WINCH, previous);
    }
}
