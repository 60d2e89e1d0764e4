package io.berth.kernel.shellclient;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.jline.utils.NonBlockingInputStream;

/**
 * What {@code berth-shell} can give a command besides its command line: its stdin and, when that is a terminal,
 * the terminal (for raw mode and the window size). With {@code -c} the terminal is made only when a command asks
 * for raw mode, so commands that do not start no later than before.
 */
final class CallerInput {

    private final InputStream stdin;
    private final InputStream lines;
    private final boolean tty;
    private Terminal terminal;
    private final boolean ownTerminal;

    private CallerInput(InputStream stdin, InputStream lines, boolean tty, Terminal terminal) {
        this.stdin = stdin;
        this.lines = lines;
        this.tty = tty;
        this.terminal = terminal;
        this.ownTerminal = terminal == null;
    }

    /** {@code berth-shell -c}: the process's stdin. */
    static CallerInput ofProcess() {
        return new CallerInput(System.in, System.in, stdinIsTerminal(), null);
    }

    /**
     * The interactive console's terminal. Keys are read in short waits, so that reading stops when the command
     * ends instead of taking the next key meant for the prompt: in raw mode as they come; otherwise as lines
     * edited on a line reader of their own, where Ctrl-D on an empty line is the end of stdin (the terminal's
     * own line discipline cannot be used: JLine's timed reads cannot tell its end of file from a timeout).
     */
    static CallerInput ofConsole(Terminal terminal) {
        boolean tty = stdinIsTerminal() && !Terminal.TYPE_DUMB.equals(terminal.getType())
                && !Terminal.TYPE_DUMB_COLOR.equals(terminal.getType());
        InputStream keys = terminal.input() instanceof NonBlockingInputStream nonBlocking
                ? stoppable(nonBlocking) : terminal.input();
        return new CallerInput(keys, tty ? lines(terminal) : keys, tty, terminal);
    }

    /** As the docker CLI asks: is stdin (not stdout) a terminal? Read from /proc, without starting JLine. */
    private static boolean stdinIsTerminal() {
        try {
            String target = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/0")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
        } catch (IOException | UnsupportedOperationException e) {
            return System.console() != null;
        }
    }

    /** Whether stdin is a terminal. */
    boolean isTerminal() {
        return tty;
    }

    /** Stdin as the command gets it: keys as they come when the terminal is raw, else lines. */
    InputStream stdin(boolean raw) {
        return raw ? stdin : lines;
    }

    /** The terminal, made now with {@code -c}. */
    synchronized Terminal terminal() throws IOException {
        if (terminal == null) {
            terminal = TerminalBuilder.builder().system(true).build();
        }
        return terminal;
    }

    /** Closes the terminal if this made it. */
    synchronized void close() {
        if (ownTerminal && terminal != null) {
            try {
                terminal.close();
            } catch (IOException ignored) {
                // exiting
            }
        }
    }

    private static InputStream lines(Terminal terminal) {
        LineReader reader = LineReaderBuilder.builder().terminal(terminal).appName("berth-shell-stdin").build();
        return new InputStream() {
            private byte[] line = new byte[0];
            private int position;
            private boolean ended;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                while (position == line.length) {
                    if (ended) {
                        return -1;
                    }
                    try {
                        line = (reader.readLine() + "\n").getBytes(StandardCharsets.UTF_8);
                        position = 0;
                    } catch (EndOfFileException e) {
                        ended = true;
                    } catch (UserInterruptException e) {
                        if (Thread.currentThread().isInterrupted()) {
                            throw new InterruptedIOException("the command has ended");
                        }
                        ended = true; // Ctrl-C: the end of stdin, as far as this command is concerned
                    }
                }
                int n = Math.min(length, line.length - position);
                System.arraycopy(line, position, buffer, offset, n);
                position += n;
                return n;
            }
        };
    }

    private static InputStream stoppable(NonBlockingInputStream keys) {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                while (true) {
                    if (Thread.currentThread().isInterrupted()) {
                        throw new InterruptedIOException("the command has ended");
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
}
