package io.berth.runtime.oci;

import io.berth.spi.runtime.ExecProcess;
import io.berth.spi.runtime.ExecSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A process started with {@code RUNTIME exec} without a TTY: the runtime runs in the foreground as this JVM's child,
 * passes its stdio through to the process and exits with its exit code, so plain pipes carry stdin, stdout and
 * stderr apart.
 */
final class RuntimeExec extends RuntimeProcess {

    private static final Output END = new Output(0, new byte[0]);

    private final BlockingQueue<Output> output = new LinkedBlockingQueue<>();
    private final AtomicInteger openStreams = new AtomicInteger(2);
    private boolean ended;

    private RuntimeExec(Process process, Path pidFile, Path processFile) {
        super(process, pidFile, processFile);
        pump(process.getInputStream(), STDOUT);
        pump(process.getErrorStream(), STDERR);
    }

    /**
     * Runs {@code runtimeExec} (the runtime's exec command up to its options) for container {@code id}.
     *
     * @param processFile the process.json it runs, removed when the process ends
     */
    static ExecProcess start(List<String> runtimeExec, String id, ExecSpec spec, Path processFile) throws IOException {
        Path pidFile = pidFileFor(processFile);
        List<String> command = new ArrayList<>(runtimeExec);
        command.addAll(List.of("--pid-file", pidFile.toString(), id));
        Process process = new ProcessBuilder(command).start();
        if (!spec.stdin()) {
            process.getOutputStream().close();
        }
        return new RuntimeExec(process, pidFile, processFile);
    }

    private void pump(InputStream in, int stream) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[8192];
            try (in) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    output.add(new Output(stream, Arrays.copyOf(buffer, n)));
                }
            } catch (IOException e) {
                // the process is gone
            } finally {
                if (openStreams.decrementAndGet() == 0) {
                    output.add(END);
                }
            }
        }, "berth-exec-output");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public synchronized Output read() throws IOException {
        if (ended) {
            return null;
        }
        try {
            Output next = output.take();
            if (next == END) {
                ended = true;
                return null;
            }
            return next;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while reading the output of an exec process", e);
        }
    }

    @Override
    public OutputStream stdin() {
        return runtime.getOutputStream();
    }

    @Override
    public void resize(int rows, int columns) {
        // no terminal
    }

    @Override
    public void close() {
        // detaching: the process keeps running; its output is no longer read once the pipes fill
    }
}
