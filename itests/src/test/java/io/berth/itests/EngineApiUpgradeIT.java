package io.berth.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 7's zero-downtime upgrade: while a client loops {@code docker ps} against the daemon's socket, the
 * operator drops a newer engine-api jar into {@code deploy/} (it supersedes the system one) and later removes it
 * (the system one comes back). Not one call may fail. The calls' latencies are printed (p50, p99, max), not
 * asserted: this machine's load decides them.
 */
class EngineApiUpgradeIT {

    @TempDir
    Path dir;

    @Test
    void dockerPsKeepsAnsweringWhileTheEngineApiBundleIsReplacedAndPutBack() throws Exception {
        Path copy = dir.resolve("berth");
        Commands.Result cp = Commands.run("cp", "-a", DistributionBundles.distribution().toString(), copy.toString());
        assertEquals(0, cp.exitCode(), cp::toString);
        Path systemJar;
        try (Stream<Path> jars = Files.list(copy.resolve("system/30"))) {
            systemJar = jars.filter(jar -> jar.getFileName().toString().startsWith("engine-api-")).findFirst()
                    .orElseThrow();
        }
        try (BerthDaemon daemon = BerthDaemon.start(copy, dir.resolve("daemon"))) {
            DockerCli cli = DockerCli.overSocket(daemon);
            DockerCli.importBusybox(dir, daemon);
            cli.ok("run", "-d", "--name", "steady", "itest/busybox:1", "sleep", "300");

            List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
            List<String> failures = Collections.synchronizedList(new ArrayList<>());
            AtomicBoolean looping = new AtomicBoolean(true);
            Thread client = new Thread(() -> {
                while (looping.get()) {
                    long start = System.nanoTime();
                    try {
                        Commands.Result ps = cli.docker("ps", "--format", "{{.Names}}");
                        latencies.add(System.nanoTime() - start);
                        if (ps.exitCode() != 0 || !ps.stdout().equals("steady\n")) {
                            failures.add(ps.toString());
                        }
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                }
            }, "docker-ps-loop");
            client.start();
            try {
                awaitCalls(latencies, 5);
                Path newer = copy.resolve("deploy/engine-api.jar");
                TestBundles.withVersion(systemJar, newer, "9.0.0");
                Await.until("the newer engine-api to replace the system one", () -> bundles(daemon),
                        text -> text.lines().anyMatch(l -> l.contains("Active") && l.contains("io.berth.engine-api (9.0.0)"))
                                && text.lines().anyMatch(l -> l.contains("Resolved") && l.contains("io.berth.engine-api (0.1.0")),
                        () -> bundles(daemon));
                awaitCalls(latencies, latencies.size() + 5);

                Files.delete(newer);
                Await.until("the system engine-api to serve again", () -> bundles(daemon),
                        text -> !text.contains("engine-api (9.0.0)") && text.lines()
                                .anyMatch(l -> l.contains("Active") && l.contains("io.berth.engine-api (0.1.0")),
                        () -> bundles(daemon));
                awaitCalls(latencies, latencies.size() + 5);
            } finally {
                looping.set(false);
                client.join();
            }
            List<Long> sorted = new ArrayList<>(latencies);
            Collections.sort(sorted);
            System.out.printf("docker ps during two engine-api swaps: %d calls, %d failed; p50 %d ms, p99 %d ms,"
                            + " max %d ms%n", sorted.size(), failures.size(), percentile(sorted, 50),
                    percentile(sorted, 99), sorted.get(sorted.size() - 1) / 1_000_000);
            assertEquals(List.of(), failures, "failed calls while the engine-api bundle was swapped");
            cli.ok("rm", "-f", "steady");
        }
    }

    /** Waits until the client has made {@code count} calls. */
    private static void awaitCalls(List<Long> latencies, int count) throws InterruptedException {
        Await.until(count + " docker ps calls", () -> Integer.toString(latencies.size()),
                n -> Integer.parseInt(n) >= count, () -> latencies.size() + " calls");
    }

    private static long percentile(List<Long> sorted, int percent) {
        int index = Math.min(sorted.size() - 1, (int) Math.ceil(percent / 100.0 * sorted.size()) - 1);
        return sorted.get(Math.max(0, index)) / 1_000_000;
    }

    private static String bundles(BerthDaemon daemon) {
        try {
            return daemon.shell("lb -s").stdout();
        } catch (Exception e) {
            return e.toString();
        }
    }
}
