package io.berth.api;

import static io.berth.api.Routes.NAME;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.spi.containers.Container;
import io.berth.spi.containers.ContainerService;
import io.berth.spi.runtime.ResourceUsage;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.eclipse.jetty.http.HttpStatus;

/**
 * {@code GET /containers/{id}/stats}: the container's cgroup usage in dockerd's shape, with the previous sample as
 * {@code precpu_stats} so that the CLI can compute CPU %, one sample a second while streaming; with
 * {@code stream=false} two samples a second apart (one with {@code one-shot=true}), as dockerd takes them.
 */
final class StatsEndpoints {

    /** The kernel's USER_HZ, which /proc/stat counts in. */
    private static final long TICKS_PER_SECOND = 100;
    private static final long INTERVAL_MILLIS = 1000;

    private final Service<ContainerService> service;

    StatsEndpoints(Service<ContainerService> service) {
        this.service = service;
    }

    void addTo(Routes routes) {
        routes.add("GET", "/containers/(?<id>" + NAME + ")/stats", this::stats);
    }

    private record Sample(Instant read, ResourceUsage usage, long systemNanos) {
    }

    private void stats(Exchange x) throws IOException {
        ContainerService containers = service.get();
        Container c = containers.inspect(x.path("id"));
        String stream = x.query("stream");
        boolean streaming = stream == null || stream.isEmpty() || x.flag("stream");
        boolean oneShot = x.flag("one-shot");
        x.stream(HttpStatus.OK_200, "application/json", out -> {
            Sample previous = oneShot || streaming ? null : sample(containers, c);
            do {
                if (previous != null) {
                    pause();
                }
                Sample current = sample(containers, c);
                out.write((Exchange.JSON.writeValueAsString(document(c, current, previous)) + "\n")
                        .getBytes(StandardCharsets.UTF_8));
                out.flush();
                previous = current;
            } while (streaming);
        });
    }

    private static void pause() throws InterruptedIOException {
        try {
            Thread.sleep(INTERVAL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }

    private static Sample sample(ContainerService containers, Container c) throws IOException {
        ResourceUsage usage = containers.inspect(c.id()).state().running() ? containers.stats(c.id())
                : new ResourceUsage(0, 0, 0, 0);
        return new Sample(Instant.now(), usage, systemCpuNanos());
    }

    private static ObjectNode document(Container c, Sample current, Sample previous) {
        ObjectNode doc = Exchange.JSON.createObjectNode();
        doc.put("read", current.read().toString());
        doc.put("preread", previous == null ? "0001-01-01T00:00:00Z" : previous.read().toString());
        doc.put("name", c.name()).put("id", c.id());
        doc.set("cpu_stats", cpu(current));
        doc.set("precpu_stats", previous == null ? Exchange.JSON.createObjectNode() : cpu(previous));
        ObjectNode memory = doc.putObject("memory_stats");
        memory.put("usage", current.usage().memoryBytes()).put("limit", current.usage().memoryLimit() > 0
                ? current.usage().memoryLimit() : SystemEndpoints.memTotal());
        memory.putObject("stats");
        doc.putObject("pids_stats").put("current", current.usage().pids());
        doc.putObject("blkio_stats");
        doc.put("num_procs", 0);
        return doc;
    }

    private static ObjectNode cpu(Sample sample) {
        ObjectNode cpu = Exchange.JSON.createObjectNode();
        cpu.putObject("cpu_usage").put("total_usage", sample.usage().cpuNanos());
        cpu.put("system_cpu_usage", sample.systemNanos());
        cpu.put("online_cpus", Runtime.getRuntime().availableProcessors());
        return cpu;
    }

    /** All CPUs' time since boot from the first line of /proc/stat, in nanoseconds, as dockerd reads it. */
    private static long systemCpuNanos() {
        try {
            String line = Files.readAllLines(Path.of("/proc/stat")).get(0);
            long ticks = 0;
            String[] fields = line.trim().split("\\s+");
            for (int i = 1; i < Math.min(fields.length, 8); i++) { // user nice system idle iowait irq softirq
                ticks += Long.parseLong(fields[i]);
            }
            return ticks * (1_000_000_000L / TICKS_PER_SECOND);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
