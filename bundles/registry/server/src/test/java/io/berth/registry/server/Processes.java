package io.berth.registry.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real peers of the tests (htpasswd, openssl, curl, skopeo) and captures what they say. */
final class Processes {

    record Result(int exit, String stdout, String stderr) {
        Result ok() {
            if (exit != 0) {
                throw new AssertionError("exit " + exit + "\nstdout: " + stdout + "\nstderr: " + stderr);
            }
            return this;
        }

        @Override
        public String toString() {
            return "exit " + exit + "\nstdout: " + stdout + "\nstderr: " + stderr;
        }
    }

    private Processes() {
    }

    static Result run(String... command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("berth-test", ".out");
        Path err = Files.createTempFile("berth-test", ".err");
        try {
            Process process = new ProcessBuilder(List.of(command))
                    .redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            if (!process.waitFor(5, TimeUnit.MINUTES)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError(String.join(" ", command) + " did not finish");
            }
            return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
