package io.berth.itests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One {@code bin/berthd} process of a built distribution, with its own
 * data-root, exec-root and socket under a test directory. Closing it stops
 * the daemon (SIGTERM, then SIGKILL if it hangs), so no test leaves one behind.
 */
final class BerthDaemon implements AutoCloseable {

    final Path distribution;
    final Path root;
    final Path socket;
    final Path log;
    final Process process;

    private BerthDaemon(Path distribution, Path root, Process process) {
        this.distribution = distribution;
        this.root = root;
        this.socket = root.resolve("berth.sock");
        this.log = root.resolve("berthd.log");
        this.process = process;
    }

    /** Starts berthd and returns at once; see {@link #awaitPing()}. */
    static BerthDaemon launch(Path distribution, Path root, String... extraArgs) throws IOException {
        Files.createDirectories(root);
        List<String> command = new ArrayList<>(List.of(distribution.resolve("bin/berthd").toString(),
                "--data-root", root.resolve("data").toString(),
                "--exec-root", root.resolve("exec").toString(),
                "-H", "unix://" + root.resolve("berth.sock")));
        command.addAll(withoutBridgeUnlessAsked(distribution, root, List.of(extraArgs)));
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(root.resolve("berthd.log").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        return new BerthDaemon(distribution, root, process);
    }

    /**
     * The arguments with a daemon.json that says {@code "bridge": "none"} unless the test's own configuration names a
     * bridge: a test daemon leaves no {@code berth0} and no nftables table on the host unless it asks for one.
     */
    private static List<String> withoutBridgeUnlessAsked(Path distribution, Path root, List<String> args)
            throws IOException {
        List<String> result = new ArrayList<>(args);
        int at = result.indexOf("--config-file");
        // without --config-file berthd reads the distribution's etc/daemon.json: start from that one
        Path given = at >= 0 ? Path.of(result.get(at + 1)) : distribution.resolve("etc/daemon.json");
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode config = Files.exists(given)
                ? (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(given.toFile())
                : json.createObjectNode();
        if (config.has("bridge")) {
            return result;
        }
        config.put("bridge", "none");
        Path file = root.resolve("itest-daemon.json");
        Files.writeString(file, json.writeValueAsString(config));
        if (at >= 0) {
            result.set(at + 1, file.toString());
        } else {
            result.addAll(List.of("--config-file", file.toString()));
        }
        return result;
    }

    /** Starts berthd and waits until its socket answers {@code /_ping}. */
    static BerthDaemon start(Path distribution, Path root, String... extraArgs) throws Exception {
        BerthDaemon daemon = launch(distribution, root, extraArgs);
        try {
            daemon.awaitPing();
        } catch (Exception | AssertionError e) {
            daemon.close();
            throw e;
        }
        return daemon;
    }

    void awaitPing() throws InterruptedException {
        Await.until("berthd to answer /_ping on " + socket, () -> process.isAlive() ? UnixHttp.tryGet(socket, "/_ping") : "exited",
                response -> response.equals("exited") || response.startsWith("HTTP/1.1 200"), this::logText);
        if (!process.isAlive()) {
            throw new AssertionError("berthd exited with " + process.exitValue() + ":\n" + logText());
        }
    }

    String logText() {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "(no log)";
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** berth-shell of this distribution against this daemon. */
    Commands.Result shell(String command) throws Exception {
        return Commands.run(distribution.resolve("bin/berth-shell").toString(), "-H", "unix://" + socket, "-c", command);
    }

    /** Sends SIGTERM and returns the exit code. */
    int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(Await.LIMIT.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError("berthd did not stop within " + Await.LIMIT.toSeconds() + " s of SIGTERM:\n"
                    + logText());
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(Duration.ofSeconds(30).toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }
}
