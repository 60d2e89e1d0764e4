package io.berth.shell;

import io.berth.spi.runtime.Attachment;
import io.berth.spi.shell.CallerTerminal;
import io.berth.spi.shell.TerminalSize;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.PrintStream;

/**
 * Connects a command's caller to a container's or an exec's stdio, as {@code docker run -it}, {@code attach} and
 * {@code exec -it} do: the caller's stdin is copied in (its end closes the process's stdin), the output is copied
 * out as it comes, and with a TTY the caller's terminal is put into raw mode (only when stdin is relayed: every
 * key then goes to the process) and its window size follows the caller's.
 *
 * <p>Opening it readies the terminal, so a container can be started at the right size; closing it restores the
 * terminal, also after an error.
 */
final class StdioRelay implements AutoCloseable {

    private final Caller caller;
    private final boolean stdin;
    private final CallerTerminal terminal;
    private final boolean raw;

    private StdioRelay(Caller caller, boolean stdin, CallerTerminal terminal) {
        this.caller = caller;
        this.stdin = stdin;
        this.terminal = terminal;
        this.raw = terminal != null && stdin;
    }

    /**
     * @param stdin whether the caller's stdin goes to the process ({@code -i})
     * @param tty   whether the process has a TTY ({@code -t}): then the caller's terminal, if any, is used
     */
    static StdioRelay open(Caller caller, boolean stdin, boolean tty) throws IOException {
        StdioRelay relay = new StdioRelay(caller, stdin, tty ? caller.terminal() : null);
        if (relay.raw) {
            relay.terminal.raw(true);
        }
        return relay;
    }

    /** Relays until the process's output ends (it exited, or the caller detached); does not close the attachment. */
    void run(Attachment attachment, PrintStream out, PrintStream err) throws IOException {
        AutoCloseable resizing = null;
        Thread pump = null;
        try {
            if (terminal != null) {
                resize(attachment, terminal.size());
                resizing = terminal.onResize(size -> resize(attachment, size));
            }
            if (stdin) {
                pump = pump(caller.stdin(raw), attachment);
            }
            for (Attachment.Output output = attachment.read(); output != null; output = attachment.read()) {
                PrintStream target = output.stream() == Attachment.STDERR ? err : out;
                target.write(output.data());
                target.flush();
            }
        } finally {
            if (pump != null) {
                pump.interrupt();
                try {
                    // The attachment is closed after this and the console reads its keys again: the pump must be
                    // done with both. It notices the interrupt within 100 ms; a loaded machine (CI with two
                    // builds) took longer than 2 s once, and the next command's Ctrl-D went to the old pump.
                    pump.join(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (resizing != null) {
                try {
                    resizing.close();
                } catch (Exception ignored) {
                    // nothing more will be resized
                }
            }
        }
    }

    private static void resize(Attachment attachment, TerminalSize size) {
        if (size.rows() <= 0 || size.columns() <= 0) {
            return; // a terminal whose size nobody set: the process keeps its own
        }
        try {
            attachment.resize(size.rows(), size.columns());
        } catch (IOException e) {
            // the process has gone: nothing to resize
        }
    }

    /** Copies the caller's stdin to the process until its end (then closes the process's stdin) or an interrupt. */
    private static Thread pump(InputStream from, Attachment attachment) {
        Thread pump = new Thread(() -> {
            byte[] buffer = new byte[8192];
            try {
                OutputStream to = attachment.stdin();
                for (int n = from.read(buffer); n >= 0; n = from.read(buffer)) {
                    if (Thread.currentThread().isInterrupted()) {
                        return;
                    }
                    to.write(buffer, 0, n);
                    to.flush();
                }
                to.close(); // EOF for the process; its output goes on
            } catch (InterruptedIOException stopped) {
                // the output has ended: nothing more to send
            } catch (IOException e) {
                // detached, or the process has gone
            }
        }, "berth-stdin");
        pump.setDaemon(true);
        pump.start();
        return pump;
    }

    @Override
    public void close() throws IOException {
        if (stdin && !raw) {
            caller.linesDone();
        }
        if (raw) {
            terminal.raw(false);
        }
    }
}
