package io.berth.shell;

import io.berth.spi.shell.CallerTerminal;
import java.io.InputStream;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Job;
import org.apache.felix.service.command.Process;

/**
 * Who runs the current command: its stdin, and its terminal when that stdin is one. A remote {@code berth-shell}
 * caller's come from the Engine API (session variable {@link #TERMINAL}, see {@link GogoShellSession}); the
 * {@code berthd --shell} console's from gogo.jline (its {@code .terminal}).
 *
 * @param stdin    the caller's stdin as it comes (keys, in raw mode); a thread blocked reading it stops when
 *                 interrupted
 * @param lines    the same as lines the caller edits, for a command that does not put the terminal into raw
 *                 mode (on the console: its own line reader, where Ctrl-D is the end); the same as stdin elsewhere
 * @param terminal the caller's terminal, {@code null} when its stdin is not a terminal
 */
record Caller(InputStream stdin, InputStream lines, CallerTerminal terminal) {

    Caller(InputStream stdin, CallerTerminal terminal) {
        this(stdin, stdin, terminal);
    }

    /** Stdin as a command reads it: keys when it has put the terminal into raw mode, else lines. */
    InputStream stdin(boolean raw) {
        return raw ? stdin : lines;
    }

    /** Once a command is done with its lines: the console's line reader gives its terminal back (elsewhere: nothing). */
    void linesDone() throws java.io.IOException {
        if (lines != stdin) {
            lines.close();
        }
    }

    /** The session variable that holds a remote caller's {@link CallerTerminal} while its command runs. */
    static final String TERMINAL = ".berth.terminal";
    /** gogo.jline's session variable for the console's terminal. */
    private static final String JLINE_TERMINAL = ".terminal";

    /** Refuses {@code -it} without a terminal, in docker's words. */
    void requireTerminal() {
        if (terminal == null) {
            throw new IllegalArgumentException("the input device is not a TTY");
        }
    }

    /** The caller of the command that runs in this thread. */
    static Caller current() {
        Process process = Process.Utils.current();
        Job job = Job.Utils.current();
        InputStream stdin = process != null ? process.in() : InputStream.nullInputStream();
        CommandSession session = job != null ? job.session() : null;
        if (session == null) {
            return new Caller(stdin, null);
        }
        if (session.get(TERMINAL) instanceof CallerTerminal remote) {
            return new Caller(stdin, remote);
        }
        Object console = session.get(JLINE_TERMINAL);
        if (console != null) {
            try {
                return ConsoleTerminal.caller(console, stdin);
            } catch (LinkageError noJline) {
                // a console without JLine in this framework: none that this shell knows
            }
        }
        return new Caller(stdin, null);
    }
}
