package io.berth.runtime.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.spi.runtime.ResourceUsage;
import io.berth.spi.runtime.RuntimeSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * berth's containers on a host with nothing but cgroup v2, which this machine (cgroup v1 hybrid) is not: one QEMU VM
 * with Debian's kernel ({@code itests/vm/boot-vm.sh}) runs the bundles {@link OciSpecWriter} writes for
 * {@link CgroupLayout#UNIFIED} with runc and with crun, the OOM case under conmon as berth runs containers, and
 * reports what it saw ({@code cgroup-v2-vm.sh}); the tests here judge it. Needs qemu-system-x86,
 * linux-image-amd64, cpio and xz-utils besides runc, crun, conmon and busybox-static: without them the harness
 * fails, and so does every test here, saying what is missing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CgroupV2VmTest {

    private static final Path HARNESS = Path.of("../../itests/vm/boot-vm.sh");
    private static final List<String> RUNTIMES = List.of("runc", "crun");
    private static final long MEMORY = 64L << 20;
    private static final long HOG_MEMORY = 32L << 20;
    private static final long PIDS = 42;
    private static final long NANO_CPUS = 1_500_000_000L;
    private static final long CPU_SHARES = 512;
    private static final int EXIT_CODE = 7;

    private Path work;
    /** The VM's "FACT name=value" lines. */
    private final Map<String, String> facts = new HashMap<>();
    /** The VM's "FILE name" dumps. */
    private final Map<String, String> files = new HashMap<>();
    private String console;
    private int vmStatus;

    @BeforeAll
    void runTheVm() throws Exception {
        // the bundles hold absolute paths: the VM gets them at the same place, which its init leaves visible
        work = Files.createTempDirectory(Path.of("/var/tmp"), "berth-cgroup-v2-");
        Path rootfs = BusyboxRootfs.create(work.resolve("rootfs"));
        OciSpecWriter writer = new OciSpecWriter(CgroupLayout.UNIFIED, true);
        for (String runtime : RUNTIMES) {
            bundle(writer, runtime + "-exit", rootfs, List.of("sh", "-c", "exit " + EXIT_CODE),
                    RuntimeSpec.Resources.NONE);
            bundle(writer, runtime + "-limits", rootfs, List.of("sh", "/view.sh"),
                    new RuntimeSpec.Resources(MEMORY, 0, NANO_CPUS, CPU_SHARES, PIDS));
            bundle(writer, runtime + "-oom", rootfs, List.of("sh", "/hog.sh"),
                    new RuntimeSpec.Resources(HOG_MEMORY, 0, 0, 0, 0));
        }
        Path script = work.resolve("script.sh");
        try (InputStream checks = getClass().getResourceAsStream("cgroup-v2-vm.sh")) {
            Files.writeString(script, "BUNDLES=" + work + "\nRUNTIMES='" + String.join(" ", RUNTIMES) + "'\n"
                    + new String(checks.readAllBytes(), StandardCharsets.UTF_8));
        }
        if (!Files.isExecutable(HARNESS)) {
            throw new IllegalStateException("the VM harness " + HARNESS.toAbsolutePath() + " is missing");
        }
        List<String> command = new ArrayList<>(List.of(HARNESS.toString(), "-t", "240", "-f", work + "=" + work));
        for (String binary : List.of("/usr/bin/runc", "/usr/bin/crun", "/usr/bin/conmon")) {
            command.addAll(List.of("-f", binary + "=" + binary));
        }
        command.add(script.toString());
        long started = System.nanoTime();
        Process vm = new ProcessBuilder(command).redirectErrorStream(true).start();
        vm.getOutputStream().close();
        byte[] output = vm.getInputStream().readAllBytes(); // ends when the harness does: it has its own time limit
        if (!vm.waitFor(30, TimeUnit.SECONDS)) {
            vm.destroy(); // the harness kills its qemu on TERM
            throw new IllegalStateException("the VM harness did not end");
        }
        console = new String(output, StandardCharsets.UTF_8);
        Files.writeString(Path.of("target/cgroup-v2-vm-console.txt"), console); // for whoever reads a failure
        vmStatus = vm.exitValue();
        System.out.printf("cgroup v2 VM: %d ms, status %d%n", (System.nanoTime() - started) / 1_000_000, vmStatus);
        parse(console);
    }

    @AfterAll
    void removeTheBundles() throws IOException {
        if (work != null) {
            try (var paths = Files.walk(work)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(path);
                }
            }
        }
    }

    private void bundle(OciSpecWriter writer, String id, Path rootfs, List<String> args,
            RuntimeSpec.Resources resources) throws IOException {
        RuntimeSpec spec = new RuntimeSpec(rootfs, false, new RuntimeSpec.Process(args, List.of(), "", "", false,
                false, List.of(), List.of()), id, "", List.of(), resources, null, false, null, List.of(), List.of(),
                List.of(), List.of(), Map.of(), 0);
        Path dir = Files.createDirectories(work.resolve(id));
        OciSpecWriter.writeEtcFiles(spec, dir.resolve("etc"));
        Files.write(dir.resolve("config.json"),
                new ObjectMapper().writeValueAsBytes(writer.configFor(id, spec, dir.resolve("etc"))));
    }

    private void parse(String text) {
        String file = null;
        StringBuilder content = new StringBuilder();
        for (String line : text.split("\n")) {
            if (file != null) {
                if (line.equals("END-FILE")) {
                    files.put(file, content.toString());
                    file = null;
                    content.setLength(0);
                } else {
                    content.append(line).append('\n');
                }
            } else if (line.startsWith("FILE ")) {
                file = line.substring("FILE ".length());
            } else if (line.startsWith("FACT ") && line.contains("=")) {
                facts.put(line.substring("FACT ".length(), line.indexOf('=')), line.substring(line.indexOf('=') + 1));
            }
        }
    }

    /** A fact the VM reported; a missing one fails with the console, which says why. */
    private String fact(String name) {
        String value = facts.get(name);
        if (value == null) {
            fail("the VM reported no " + name + " (harness status " + vmStatus + "); its console:\n" + console);
        }
        return value;
    }

    private void assertFact(String expected, String name) {
        assertEquals(expected, fact(name).trim(), name + "; console:\n" + console);
    }

    @Test
    void theVmIsAPureCgroupV2Host() {
        assertFact("/sys/fs/cgroup:cgroup2", "host.cgroup-mounts");
        assertEquals(0, vmStatus, console);
    }

    @Test
    void theContainersExitCodeComesBack() {
        for (String runtime : RUNTIMES) {
            assertFact(Integer.toString(EXIT_CODE), runtime + "-exit.status");
            assertFact("gone", runtime + "-exit.cgroup-after");
        }
    }

    @Test
    void theLimitsAreThoseOfTheSpecInsideTheContainersCgroup() {
        for (String runtime : RUNTIMES) {
            String id = runtime + "-limits";
            assertFact("0", id + ".create");
            assertFact(Long.toString(MEMORY), id + ".inside.memory.max");
            // OCI's memory.swap is memory plus swap (Docker's default: twice the memory); v2's is swap alone
            assertFact(Long.toString(MEMORY), id + ".inside.memory.swap.max");
            assertFact(Long.toString(PIDS), id + ".inside.pids.max");
            assertFact("150000 100000", id + ".inside.cpu.max");
            // the OCI runtimes' conversion of cpu shares (2..262144) to a v2 weight (1..10000)
            assertFact(Long.toString(1 + (CPU_SHARES - 2) * 9999 / 262142), id + ".inside.cpu.weight");
            assertFact(Long.toString(MEMORY), id + ".host.memory.max");
            assertFact(Long.toString(PIDS), id + ".host.pids.max");
            assertFact("150000 100000", id + ".host.cpu.max");
        }
    }

    /** berth's {@link Cgroups} on a copy of the running container's v2 files, as {@code docker stats} reads them. */
    @Test
    void berthReadsUsageAndProcessesFromTheV2Files() throws IOException {
        for (String runtime : RUNTIMES) {
            String id = runtime + "-limits";
            Path root = work.resolve("cgroupfs").resolve(id);
            files.forEach((name, content) -> {
                if (name.startsWith(id + "/")) {
                    try {
                        Path file = work.resolve("cgroupfs").resolve(name);
                        Files.createDirectories(file.getParent());
                        Files.writeString(file, content);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            });
            Cgroups cgroups = new Cgroups(root);
            assertEquals(CgroupLayout.UNIFIED, CgroupLayout.detect(root), id + ": files copied: " + files.keySet());
            assertEquals(List.of(Long.parseLong(fact(id + ".host.pid"))), cgroups.processes(CgroupLayout.pathOf(id)));
            ResourceUsage usage = cgroups.usage(CgroupLayout.pathOf(id));
            long cpuMicros = Long.parseLong(files.get(id + "/berth/" + id + "/cpu.stat").lines()
                    .filter(line -> line.startsWith("usage_usec ")).findFirst().orElseThrow().split(" ")[1]);
            assertEquals(cpuMicros * 1000, usage.cpuNanos(), id);
            long current = Long.parseLong(files.get(id + "/berth/" + id + "/memory.current").trim());
            assertTrue(usage.memoryBytes() > 0 && usage.memoryBytes() <= current, id + ": " + usage);
            assertEquals(MEMORY, usage.memoryLimit(), id);
            assertEquals(1, usage.pids(), id + ": the container runs only sleep");
        }
    }

    @Test
    void theContainerSeesItsOwnCgroupNamespaceRootReadOnly() {
        for (String runtime : RUNTIMES) {
            String id = runtime + "-limits";
            assertFact("0::/", id + ".inside.proc-self-cgroup");
            assertFact("no", id + ".inside.sees-host-berth");
            assertFact("no", id + ".inside.cgroupfs-writable");
            assertTrue(fact(id + ".inside.procs").trim().startsWith("1"),
                    "the container's init is pid 1 of its own cgroup: " + fact(id + ".inside.procs"));
        }
    }

    @Test
    void aMemoryHogIsOomKilledAndConmonRecordsIt() {
        for (String runtime : RUNTIMES) {
            String id = runtime + "-oom";
            assertTrue(fact(id + ".sync").matches("\\{\\s*\"data\"\\s*:\\s*[1-9][0-9]*\\s*}"),
                    id + ": conmon created no container: " + fact(id + ".sync") + "; " + fact(id + ".conmon-log"));
            assertFact("137", id + ".exit-file");
            String events = files.getOrDefault(id + "/memory.events", "");
            assertTrue(events.lines().anyMatch(line -> line.matches("oom_kill [1-9][0-9]*")),
                    id + ": memory.events has no oom_kill: " + events);
            // berth's runtime reports OOMKilled from conmon's persist/oom (ConmonRuntime.exitedState)
            assertFact("yes", id + ".persist-oom");
        }
    }

    @Test
    void theCgroupIsGoneAfterDelete() {
        for (String runtime : RUNTIMES) {
            for (String kind : List.of("limits", "oom")) {
                String id = runtime + "-" + kind;
                assertFact("0", id + ".delete");
                assertFact("gone", id + ".cgroup-after");
            }
        }
    }
}
