package io.berth.runtime.oci;

import io.berth.spi.runtime.ContainerIo;
import io.berth.spi.runtime.RuntimeSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Not a test: create + start + exit of {@code true} through {@link ConmonRuntime}, per runtime, median of N runs
 * (and the same with delete), after one warm-up run. Also lists what a running container keeps on disk.
 * Run: {@code java -cp <test class path> io.berth.runtime.oci.RuntimeBenchmark [runs]}.
 */
public final class RuntimeBenchmark {

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        Path temp = Files.createTempDirectory(Path.of("/tmp"), "brb");
        try {
            Path rootfs = BusyboxRootfs.create(temp.resolve("rootfs"));
            for (String name : List.of("runc", "crun")) {
                ConmonRuntime runtime = OciRuntimes.create(name, OciRuntimes.find(name).orElseThrow(),
                        temp.resolve("data"), temp.resolve("run-" + name));
                List<Long> toExit = new ArrayList<>();
                List<Long> withDelete = new ArrayList<>();
                for (int i = 0; i <= runs; i++) {
                    String id = ContainerRuntimeContract.newId();
                    long start = System.nanoTime();
                    runtime.create(id, spec(rootfs, "true"), new ContainerIo(temp.resolve("logs/" + id), 0, false));
                    runtime.start(id);
                    runtime.exit(id).get(60, TimeUnit.SECONDS);
                    long exited = System.nanoTime();
                    runtime.delete(id, false);
                    long deleted = System.nanoTime();
                    if (i > 0) { // the first run warms up the JVM
                        toExit.add(exited - start);
                        withDelete.add(deleted - start);
                    }
                }
                System.out.printf("%s: create+start+exit median %.1f ms (min %.1f, max %.1f); with delete %.1f ms%n",
                        name, median(toExit), min(toExit), max(toExit), median(withDelete));

                String id = ContainerRuntimeContract.newId();
                runtime.create(id, spec(rootfs, "sleep", "1000"), new ContainerIo(temp.resolve("logs/" + id), 0, true));
                runtime.start(id);
                System.out.println("  while " + name + " runs a container:");
                for (Path root : List.of(runtime.stateRoot(), temp.resolve("run-" + name))) {
                    try (Stream<Path> files = Files.walk(root)) {
                        files.forEach(p -> System.out.println("    " + temp.relativize(p)
                                + (Files.isSymbolicLink(p) ? " -> link" : Files.isDirectory(p) ? "/" : "")));
                    }
                }
                runtime.delete(id, true);
                runtime.close();
            }
        } finally {
            new ProcessBuilder("rm", "-rf", temp.toString()).inheritIO().start().waitFor();
        }
    }

    private static RuntimeSpec spec(Path rootfs, String... args) {
        return new RuntimeSpec(rootfs, false, new RuntimeSpec.Process(List.of(args), List.of(), "", "", false, false,
                List.of(), List.of()), "bench", "", List.of(), RuntimeSpec.Resources.NONE, null, false, null,
                List.of(), List.of(), List.of(), List.of(), Map.of(), 0);
    }

    private static double median(List<Long> nanos) {
        List<Long> sorted = nanos.stream().sorted().toList();
        int n = sorted.size();
        return (n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2.0) / 1e6;
    }

    private static double min(List<Long> nanos) {
        return nanos.stream().mapToLong(Long::longValue).min().orElse(0) / 1e6;
    }

    private static double max(List<Long> nanos) {
        return nanos.stream().mapToLong(Long::longValue).max().orElse(0) / 1e6;
    }
}
