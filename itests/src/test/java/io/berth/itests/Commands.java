package io.berth.itests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a command line to completion, bounded in time, and keeps what it printed. */
final class Commands {

    record Result(int exitCode, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    private Commands() {
    }

    static Result run(String... command) throws IOException, InterruptedException {
        return run(null, command);
    }

    /** Runs it and fails the test, with its output, unless it exits 0. */
    static Result check(String... command) throws IOException, InterruptedException {
        Result result = run(command);
        org.junit.jupiter.api.Assertions.assertEquals(0, result.exitCode(), result::toString);
        return result;
    }

    /** Runs it with {@code stdin} (a file, or /dev/null when null) as its stdin. */
    static Result run(Path stdin, String... command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("berth-itest-out", ".txt");
        Path err = Files.createTempFile("berth-itest-err", ".txt");
        try {
            Process process = new ProcessBuilder(List.of(command))
                    .redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(
                            stdin == null ? new java.io.File("/dev/null") : stdin.toFile()))
                    .start();
            if (!process.waitFor(Await.LIMIT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError("gave up on " + String.join(" ", command) + " after "
                        + Await.LIMIT.toSeconds() + " s");
            }
            return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
