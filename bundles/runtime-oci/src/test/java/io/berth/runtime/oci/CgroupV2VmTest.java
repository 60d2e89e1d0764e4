package io.berth.runtime.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.spi.runtime.RuntimeSpec;
import java.io.IOException;
import java.io.InputStream;
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
 * berth's containers on a host with nothing but cgroup v2, which this machine (cgroup v1 hybrid) is not. One QEMU VM
 * with Debian's kernel ({@code itests/vm/boot-vm.sh}) runs, with runc and with crun, the bundles
 * {@link OciSpecWriter} writes for {@link CgroupLayout#UNIFIED} (the OOM case under conmon, as berth runs
 * containers), then berth's own {@link ConmonRuntime} on this JVM and class path ({@link CgroupV2Guest}); a script
 * ({@code cgroup-v2-vm.sh}) reports what it saw and the tests here judge it. Needs qemu-system-x86,
 * linux-image-amd64, cpio and xz-utils besides runc, crun, conmon and busybox-static: without them the harness
 * fails, and so does every test here, saying what is missing. About 40 s, most of it the JVM under emulation.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CgroupV2VmTest {

    private static final Path HARNESS = Path.of("../../itests/vm/boot-vm.sh");
    private static final Path JAVA_HOME = Path.of(System.getProperty("java.home"));
    private static final List<String> RUNTIMES = List.of("runc", "crun");
    static final long MEMORY = 64L << 20;
    static final long HOG_MEMORY = 32L << 20;
    static final long PIDS = 42;
    private static final long NANO_CPUS = 1_500_000_000L;
    private static final long CPU_SHARES = 512;
    private static final int EXIT_CODE = 7;

    private Path work;
    /** The VM's "FACT name=value" lines. */
    private final Map<String, String> facts = new HashMap<>();
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
        // this JVM and this test's class path, for CgroupV2Guest in the VM
        List<String> classPath = List.of(System.getProperty("surefire.test.class.path",
                System.getProperty("java.class.path")).split(":"));
        Path script = work.resolve("script.sh");
        try (InputStream checks = getClass().getResourceAsStream("cgroup-v2-vm.sh")) {
            Files.writeString(script, "BUNDLES=" + work + "\nRUNTIMES='" + String.join(" ", RUNTIMES) + "'\n"
                    + "JAVA=" + JAVA_HOME.resolve("bin/java") + "\nCLASSPATH=" + String.join(":", classPath) + "\n"
                    + new String(checks.readAllBytes(), StandardCharsets.UTF_8));
        }
        if (!Files.isExecutable(HARNESS)) {
            throw new IllegalStateException("the VM harness " + HARNESS.toAbsolutePath() + " is missing");
        }
        List<String> command = new ArrayList<>(List.of(HARNESS.toString(), "-t", "300", "-m", "2048"));
        List<String> shared = new ArrayList<>(List.of(work.toString(), "/usr/bin/runc", "/usr/bin/crun",
                "/usr/bin/conmon", JAVA_HOME.toString()));
        shared.addAll(classPath);
        for (String path : shared) {
            command.addAll(List.of("-f", path + "=" + path));
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

    /** What {@code docker run} with these limits asks for; the hostname is the container's id. */
    static RuntimeSpec spec(String id, Path rootfs, List<String> args, RuntimeSpec.Resources resources) {
        return new RuntimeSpec(rootfs, false, new RuntimeSpec.Process(args, List.of(), "", "", false, false,
                List.of(), List.of()), id, "", List.of(), resources, null, false, null, List.of(), List.of(),
                List.of(), List.of(), Map.of(), 0);
    }

    private void bundle(OciSpecWriter writer, String id, Path rootfs, List<String> args,
            RuntimeSpec.Resources resources) throws IOException {
        RuntimeSpec spec = spec(id, rootfs, args, resources);
        Path dir = Files.createDirectories(work.resolve(id));
        OciSpecWriter.writeEtcFiles(spec, dir.resolve("etc"));
        Files.write(dir.resolve("config.json"),
                new ObjectMapper().writeValueAsBytes(writer.configFor(id, spec, dir.resolve("etc"))));
    }

    private void parse(String text) {
        for (String line : text.split("\n")) {
            if (line.startsWith("FACT ") && line.contains("=")) {
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
            assertTrue(fact(id + ".memory.events.oom_kill").matches("[1-9][0-9]*"), id + ": no oom_kill in memory.events");
            assertTrue(fact(id + ".memory.events.oom").matches("[1-9][0-9]*"), id + ": no oom in memory.events");
            // berth's runtime reports OOMKilled from conmon's persist/oom (ConmonRuntime.exitedState)
            assertFact("yes", id + ".persist-oom");
        }
    }

    /** berth's own runtime driver, on the JVM in the VM ({@link CgroupV2Guest}). */
    @Test
    void berthsConmonRuntimeRunsContainersThere() {
        assertFact("0", "jvm.status");
        assertFact("crun", "jvm.default-runtime");
        for (String runtime : RUNTIMES) {
            assertFact("unified", "jvm." + runtime + ".status");
            String limits = "jvm." + runtime + "-jvm-limits";
            assertFact("RUNNING", limits + ".state");
            assertFact("true", limits + ".processes-are-init");
            assertFact(Long.toString(MEMORY), limits + ".usage.memory-limit");
            assertFact("1", limits + ".usage.pids");
            assertFact("true", limits + ".usage.memory-positive");
            assertFact("true", limits + ".usage.cpu-positive");
            assertFact("137", limits + ".exit-code");
            assertFact("false", limits + ".oom-killed");
            assertFact("gone", limits + ".cgroup-after-delete");
            String oom = "jvm." + runtime + "-jvm-oom";
            assertFact("137", oom + ".exit-code");
            assertFact("true", oom + ".oom-killed");
            assertFact("gone", oom + ".cgroup-after-delete");
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
