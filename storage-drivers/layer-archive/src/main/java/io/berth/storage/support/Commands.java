package io.berth.storage.support;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs an external tool (mount, umount, getfattr, cp, btrfs) the way a driver
 * must: stdin from {@code /dev/null}, {@code LC_ALL=C} so output and messages
 * do not depend on the daemon's locale, both output streams drained on their
 * own threads so a chatty tool cannot block on a full pipe, and a bounded
 * wait, after which the tool is killed. A failure is an {@link IOException}
 * that names the command and carries what it printed.
 */
public final class Commands {

    /** How long to wait for output still in the pipes after the tool ended or was killed. */
    private static final long DRAIN_MILLIS = 10_000;

    /** The outcome of a command that ran to its end. */
    public record Result(int exitCode, String stdout, String stderr) {

        /** What the command said about itself: its error output, else its output, else its exit code. */
        public String message() {
            String text = printed();
            return text.isEmpty() ? "exit code " + exitCode : text;
        }

        private String printed() {
            return (stderr.isBlank() ? stdout : stderr).trim();
        }
    }

    /** Where system tools live even when the daemon's {@code PATH} leaves them out (sbin for non-root shells). */
    private static final List<String> STANDARD_BIN = List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
            "/usr/bin", "/sbin", "/bin");

    private Commands() {
    }

    /**
     * The absolute path of the executable {@code name}, looked up in {@code PATH}
     * and then in the standard bin directories, or {@code null} when it is not
     * installed.
     */
    public static String locate(String name) {
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(File.pathSeparator)));
        }
        dirs.addAll(STANDARD_BIN);
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return null;
    }

    /**
     * Runs {@code command} in {@code directory} (the current one when
     * {@code null}) and waits at most {@code timeout}; never throws because of
     * a non-zero exit code.
     *
     * @throws IOException when it cannot start, does not finish in time (it is
     *         then killed) or the wait is interrupted
     */
    public static Result run(List<String> command, Path directory, Duration timeout) throws IOException {
        return run(command, Map.of(), directory, timeout);
    }

    /** As {@link #run(List, Path, Duration)}, with {@code environment} added to the tool's environment. */
    public static Result run(List<String> command, Map<String, String> environment, Path directory, Duration timeout)
            throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        if (directory != null) {
            builder.directory(directory.toFile());
        }
        builder.environment().putAll(environment);
        builder.environment().put("LC_ALL", "C");
        Process process = builder.start();
        Drain stdout = new Drain(process.getInputStream(), command);
        Drain stderr = new Drain(process.getErrorStream(), command);
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(DRAIN_MILLIS, TimeUnit.MILLISECONDS);
                String printed = new Result(-1, stdout.text(), stderr.text()).printed();
                throw new IOException(describe(command) + " did not finish within " + timeout.toSeconds() + "s"
                        + (printed.isEmpty() ? "" : ": " + printed));
            }
            return new Result(process.exitValue(), stdout.text(), stderr.text());
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + describe(command), e);
        }
    }

    /**
     * Runs {@code command} as {@link #run} does and returns its standard output.
     *
     * @throws IOException also when it exits with another code than 0:
     *         "{@code <command> failed (exit <code>): <what it printed>}"
     */
    public static String check(List<String> command, Path directory, Duration timeout) throws IOException {
        return check(command, Map.of(), directory, timeout);
    }

    /** As {@link #check(List, Path, Duration)}, with {@code environment} added to the tool's environment. */
    public static String check(List<String> command, Map<String, String> environment, Path directory, Duration timeout)
            throws IOException {
        Result result = run(command, environment, directory, timeout);
        if (result.exitCode() != 0) {
            String printed = result.printed();
            throw new IOException(describe(command) + " failed (exit " + result.exitCode() + ")"
                    + (printed.isEmpty() ? "" : ": " + printed));
        }
        return result.stdout();
    }

    private static String describe(List<String> command) {
        return String.join(" ", command);
    }

    /** Reads one output stream of a process to its end on a thread of its own. */
    private static final class Drain {

        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final InputStream in;
        private final Thread thread;

        Drain(InputStream in, List<String> command) {
            this.in = in;
            this.thread = new Thread(this::read, "berth-command-output " + command.get(0));
            thread.setDaemon(true);
            thread.start();
        }

        private void read() {
            byte[] buffer = new byte[8192];
            try (in) {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    synchronized (bytes) {
                        bytes.write(buffer, 0, n);
                    }
                }
            } catch (IOException e) {
                // the process is gone or killed: keep what was read
            }
        }

        /**
         * What was read; waits a bounded time for the end of the stream, which
         * a process that the tool left behind may hold open.
         */
        String text() throws InterruptedException {
            thread.join(DRAIN_MILLIS);
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
