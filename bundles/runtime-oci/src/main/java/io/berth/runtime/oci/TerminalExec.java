package io.berth.runtime.oci;

import io.berth.spi.runtime.ExecProcess;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A process started with {@code RUNTIME exec --tty} in the foreground, with a pseudo-terminal of this JVM as its
 * controlling terminal ({@code setsid -c}): the runtime gives the process a terminal of the container's, copies
 * between the two, passes window size changes on and exits with the process's exit code. This works alike for
 * runc and crun, which both need {@code --detach} (and so lose the exit code) with a console socket instead.
 */
final class TerminalExec extends RuntimeProcess {

    /** End of transmission: what closing a terminal's input means to a reader in canonical mode. */
    private static final byte EOT = 4;

    private final Posix.Pty pty;
    private final byte[] buffer = new byte[8192];
    /** Set when the output has ended or the caller detached: read() answers null from then on. */
    private volatile boolean closed;
    private final AtomicBoolean masterClosed = new AtomicBoolean();

    private TerminalExec(Process process, Posix.Pty pty, Path pidFile, Path processFile) {
        super(process, pidFile, processFile);
        this.pty = pty;
    }

    /** @param rows the terminal's height from the start (the runtime copies it), with {@code columns}; 0: unknown */
    static ExecProcess start(List<String> runtimeExec, String id, Path processFile, int rows, int columns)
            throws IOException {
        Path pidFile = pidFileFor(processFile);
        Posix.Pty pty = Posix.openPty();
        try {
            // Raw from the start: the runtime makes its terminal raw only once it runs, and until then the line
            // discipline would echo early keys a second time and turn a Ctrl-D into an end of input that it hands
            // on later as NUL bytes (the "^@^@" a docker exec -it showed before its output).
            Posix.makeRaw(pty.master());
            if (rows > 0 && columns > 0) {
                Posix.resize(pty.master(), rows, columns); // else a command run at once sees 0 x 0 ("stty size")
            }
            List<String> command = new ArrayList<>(List.of("setsid", "-w", "-c"));
            command.addAll(runtimeExec);
            command.addAll(List.of("--tty", "--pid-file", pidFile.toString(), id));
            Process process = new ProcessBuilder(command)
                    .redirectInput(pty.slave().toFile())
                    .redirectOutput(pty.slave().toFile())
                    .redirectError(pty.slave().toFile())
                    .start();
            return new TerminalExec(process, pty, pidFile, processFile);
        } catch (IOException | RuntimeException e) {
            Posix.close(pty.master());
            throw e;
        }
    }

    @Override
    public synchronized Output read() throws IOException {
        if (closed) {
            return null;
        }
        int n = Posix.read(pty.master(), buffer);
        if (n <= 0) { // EIO: no one holds the terminal any more, the runtime has gone
            closed = true;
            closeMaster();
            return null;
        }
        return new Output(STDOUT, Arrays.copyOf(buffer, n));
    }

    @Override
    public OutputStream stdin() {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] data, int offset, int length) throws IOException {
                Posix.write(pty.master(), data, offset, length);
            }

            @Override
            public void close() throws IOException {
                write(EOT);
            }
        };
    }

    @Override
    public void resize(int rows, int columns) throws IOException {
        Posix.resize(pty.master(), rows, columns);
    }

    @Override
    public void close() {
        closed = true;
        // the process keeps running; the terminal goes once the runtime has exited
        runtime.onExit().thenRun(this::closeMaster);
    }

    private void closeMaster() {
        if (masterClosed.compareAndSet(false, true)) {
            Posix.close(pty.master());
        }
    }
}
