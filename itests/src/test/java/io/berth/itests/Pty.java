package io.berth.itests;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A shell command line run on a real pseudo-terminal, through util-linux {@code script}: what it prints is read as
 * it comes, and keys are typed into it, as a person at a terminal would. The terminal's size is set first
 * ({@code stty rows R cols C}), and the command line's exit status is printed at the end as {@code exit=N}.
 */
final class Pty implements AutoCloseable {

    private final Process process;
    private final OutputStream keys;
    private final ByteArrayOutputStream output = new ByteArrayOutputStream();

    private Pty(Process process) {
        this.process = process;
        this.keys = process.getOutputStream();
        Thread reader = new Thread(() -> {
            byte[] buffer = new byte[4096];
            try (InputStream in = process.getInputStream()) {
                for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                    synchronized (output) {
                        output.write(buffer, 0, n);
                    }
                }
            } catch (IOException ignored) {
                // the process has gone
            }
        }, "pty-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** Runs {@code commandLine} (sh syntax) on a terminal of {@code rows} x {@code columns}. */
    static Pty start(int rows, int columns, String commandLine) throws IOException {
        String script = "stty rows " + rows + " cols " + columns + "; " + commandLine + "; echo exit=$?";
        return new Pty(new ProcessBuilder(List.of("script", "-qec", script, "/dev/null"))
                .redirectErrorStream(true).start());
    }

    /** Everything printed so far, with the terminal's carriage returns removed. */
    String output() {
        synchronized (output) {
            return output.toString(StandardCharsets.UTF_8).replace("\r", "");
        }
    }

    /** Waits until the output contains {@code text}. */
    void await(String text) throws InterruptedException {
        Await.until("\"" + text + "\" on the terminal", this::output, out -> out.contains(text), this::output);
    }

    /** Types {@code text} (control keys as their characters, Enter as {@code \r}). */
    void type(String text) throws IOException {
        keys.write(text.getBytes(StandardCharsets.UTF_8));
        keys.flush();
    }

    /** Waits for the command line to end and returns all it printed. */
    String finish() throws InterruptedException {
        await("exit=");
        if (!process.waitFor(Await.LIMIT.toSeconds(), TimeUnit.SECONDS)) {
            throw new AssertionError("script did not end:\n" + output());
        }
        return output();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly().waitFor();
        }
    }
}
