package io.berth.storage.overlay;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs one short external command (mount, umount, getfattr) and returns what it printed. */
final class Exec {

    /** The outcome of a command that ran to its end. */
    record Result(int exitCode, String stdout, String stderr) {

        String message() {
            String text = (stderr.isBlank() ? stdout : stderr).trim();
            return text.isEmpty() ? "exit code " + exitCode : text;
        }
    }

    private static final long TIMEOUT_SECONDS = 120;

    private Exec() {
    }

    /** Runs the command in {@code directory} (or the current one when {@code null}); never throws on a non-zero exit. */
    static Result run(Path directory, List<String> command) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        if (directory != null) {
            builder.directory(directory.toFile());
        }
        Process process = builder.start();
        try {
            // stderr is drained on its own thread so that a chatty command cannot block on a full pipe.
            java.util.concurrent.CompletableFuture<byte[]> stderr = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return process.getErrorStream().readAllBytes();
                } catch (IOException e) {
                    return new byte[0];
                }
            });
            byte[] stdout = process.getInputStream().readAllBytes();
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish within " + TIMEOUT_SECONDS + "s");
            }
            return new Result(process.exitValue(), new String(stdout, StandardCharsets.UTF_8),
                    new String(stderr.join(), StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + String.join(" ", command), e);
        }
    }

    /** Runs the command and fails with its error output unless it exits with 0. */
    static String check(Path directory, List<String> command) throws IOException {
        Result result = run(directory, command);
        if (result.exitCode() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + result.message());
        }
        return result.stdout();
    }
}
