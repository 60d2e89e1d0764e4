package io.berth.runtime.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.spi.runtime.Attachment;
import io.berth.spi.runtime.ContainerIo;
import io.berth.spi.runtime.ContainerState;
import io.berth.spi.runtime.ExecProcess;
import io.berth.spi.runtime.ExecSpec;
import io.berth.spi.runtime.ResourceUsage;
import io.berth.spi.runtime.RuntimeSpec;
import io.berth.storage.support.Commands;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every OCI runtime driver must do, with real containers: run once per runtime (runc, crun), with the same
 * tests. Each test gets a fresh busybox rootfs and data-root; every container is deleted afterwards, and nothing
 * may stay: no conmon, no cgroup, no state.
 */
abstract class ContainerRuntimeContract {

    /** How long a test waits for something a container does; never an assertion about speed. */
    static final long PATIENCE_SECONDS = 60;
    /** Docker's 14 default capabilities as a CapEff mask. */
    static final long DEFAULT_CAPS = 0xa80425fbL;

    @TempDir
    Path temp;

    Path dataRoot;
    Path runRoot;
    Path rootfs;
    ConmonRuntime runtime;
    final List<String> created = new CopyOnWriteArrayList<>();

    /** The runtime binary's name: {@code runc} or {@code crun}. */
    abstract String runtimeName();

    @BeforeEach
    void setUp() throws Exception {
        // a long data-root: the attach socket must still be reachable
        dataRoot = Files.createDirectories(temp.resolve("data-root-with-a-rather-long-name-to-check-socket-path-limits"
                + "/and-another-long-directory-below-it-for-good-measure"));
        runRoot = Files.createTempDirectory(Path.of("/tmp"), "brt");
        rootfs = BusyboxRootfs.create(temp.resolve("rootfs"));
        runtime = newRuntime();
        assertTrue(runtime.status().isActive(), runtime.status().reason());
    }

    ConmonRuntime newRuntime() throws IOException {
        Path binary = OciRuntimes.find(runtimeName()).orElseThrow(() -> new AssertionError(runtimeName()
                + " is not installed"));
        return OciRuntimes.create(runtimeName(), binary, dataRoot, runRoot);
    }

    @AfterEach
    void deleteEverything() throws Exception {
        List<String> failures = new ArrayList<>();
        for (String id : created) {
            try {
                runtime.delete(id, true);
            } catch (Exception e) {
                failures.add(id + ": " + e);
            }
            if (Cgroups.exists(CgroupLayout.pathOf(id))) {
                failures.add(id + ": cgroup left");
            }
        }
        runtime.close();
        List<String> conmons = conmonsOf(runRoot);
        try (Stream<Path> left = Files.list(runtime.stateRoot())) {
            List<Path> dirs = left.filter(p -> !p.getFileName().toString().equals("exits")).toList();
            if (!dirs.isEmpty()) {
                failures.add("state left: " + dirs);
            }
        }
        Path socketDir = ConmonRuntime.socketDirFor(runRoot);
        if (Files.exists(socketDir)) { // a closed runtime removes it when no container needs it
            try (Stream<Path> left = Files.list(socketDir)) {
                failures.add("socket links left: " + left.toList());
            }
        }
        Commands.run(List.of("rm", "-rf", runRoot.toString()), null, Duration.ofSeconds(30));
        assertTrue(conmons.isEmpty(), "conmon processes left: " + conmons);
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    // ---- running a container -----------------------------------------------------------------------------------

    @Test
    void runsToTheEndAndReportsExitCodeAndLogLinesWithStreamAndTime() throws Exception {
        Instant before = Instant.now().minusSeconds(1);
        String id = create(spec("sh", "-c", "echo out; echo err >&2; exit 3"));
        assertEquals(ContainerState.Status.CREATED, runtime.state(id).status());
        assertTrue(runtime.state(id).pid() > 0);
        runtime.start(id);
        ContainerState exited = runtime.exit(id).get(PATIENCE_SECONDS, TimeUnit.SECONDS);
        assertEquals(ContainerState.Status.STOPPED, exited.status());
        assertEquals(3, exited.exitCode());
        assertFalse(exited.oomKilled());
        assertNotNull(exited.finishedAt());
        assertFalse(exited.finishedAt().isBefore(before), exited.finishedAt() + " before " + before);
        assertEquals(exited, runtime.state(id));

        List<String[]> lines = logLines(id);
        assertEquals(2, lines.size(), lines.toString());
        for (String[] line : lines) {
            OffsetDateTime time = OffsetDateTime.parse(line[0]);
            assertFalse(time.toInstant().isBefore(before));
            assertEquals("F", line[2]);
        }
        assertTrue(lines.stream().anyMatch(l -> l[1].equals("stdout") && l[3].equals("out")));
        assertTrue(lines.stream().anyMatch(l -> l[1].equals("stderr") && l[3].equals("err")));
    }

    @Test
    void containersAreCreatedAndRunInParallel() throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(6);
        try {
            List<Future<Integer>> exits = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                int code = i;
                exits.add(threads.submit(() -> {
                    String id = run(spec("sh", "-c", "exit " + code));
                    return runtime.exit(id).get(PATIENCE_SECONDS, TimeUnit.SECONDS).exitCode();
                }));
            }
            for (int i = 0; i < exits.size(); i++) {
                assertEquals(i, exits.get(i).get(PATIENCE_SECONDS, TimeUnit.SECONDS));
            }
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void deleteRefusesARunningContainerUnlessForcedAndTakesACreatedOne() throws Exception {
        String running = run(spec("sleep", "1000"));
        IOException refused = assertThrows(IOException.class, () -> runtime.delete(running, false));
        assertTrue(refused.getMessage().contains("running"), refused.getMessage());
        assertEquals(ContainerState.Status.RUNNING, runtime.state(running).status());
        runtime.delete(running, true);
        assertThrows(NoSuchElementException.class, () -> runtime.state(running));
        assertFalse(Cgroups.exists(CgroupLayout.pathOf(running)));

        String createdOnly = create(spec("true"));
        runtime.delete(createdOnly, false);
        assertFalse(Files.exists(runtime.stateRoot().resolve(createdOnly)));
        assertFalse(Cgroups.exists(CgroupLayout.pathOf(createdOnly)));
        runtime.delete(createdOnly, false); // unknown now: nothing to do
    }

    @Test
    void killEndsTheContainerWithTheSignalsExitCode() throws Exception {
        String sleeper = run(spec("sleep", "1000"));
        runtime.kill(sleeper, 9);
        assertEquals(137, runtime.exit(sleeper).get(PATIENCE_SECONDS, TimeUnit.SECONDS).exitCode());

        String handler = run(spec("sh", "-c", "trap 'exit 143' TERM; echo ready; while true; do sleep 1; done"));
        awaitLog(handler, "ready");
        runtime.kill(handler, 15);
        assertEquals(143, runtime.exit(handler).get(PATIENCE_SECONDS, TimeUnit.SECONDS).exitCode());
    }

    @Test
    void aPid1WithoutHandlerIgnoresSigterm() throws Exception {
        String id = run(spec("sleep", "1000"));
        // until the runtime's init has exec'd sleep, a SIGTERM would meet the runtime's own handler
        Path cmdline = Path.of("/proc", Long.toString(runtime.state(id).pid()), "cmdline");
        awaitTrue(() -> Files.readString(cmdline).startsWith("sleep\0"));
        runtime.kill(id, 15);
        // the kernel drops a signal to a namespace's init without a handler when it is sent: nothing to wait for
        assertEquals(ContainerState.Status.RUNNING, runtime.state(id).status());
        assertFalse(runtime.exit(id).isDone());
        runtime.kill(id, 9);
        assertEquals(137, runtime.exit(id).get(PATIENCE_SECONDS, TimeUnit.SECONDS).exitCode());
    }

    @Test
    void aPausedContainersCounterDoesNotAdvance() throws Exception {
        String id = run(spec("sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/count; done"));
        Path count = rootfs.resolve("tmp/count");
        awaitTrue(() -> Files.exists(count) && !Files.readString(count).isBlank());
        runtime.pause(id);
        assertEquals(ContainerState.Status.PAUSED, runtime.state(id).status());
        String paused = Files.readString(count);
        Thread.sleep(300);
        assertEquals(paused, Files.readString(count));
        runtime.resume(id);
        assertEquals(ContainerState.Status.RUNNING, runtime.state(id).status());
        awaitTrue(() -> !Files.readString(count).equals(paused));
    }

    @Test
    void memoryLimitIsEnforcedAndReportedAsOom() throws Exception {
        String id = run(spec(new RuntimeSpec.Resources(16 * 1024 * 1024, 16 * 1024 * 1024, 0, 0, 0),
                "sh", "-c", "tail /dev/zero"));
        ContainerState exited = runtime.exit(id).get(PATIENCE_SECONDS, TimeUnit.SECONDS);
        assertEquals(137, exited.exitCode());
        assertTrue(exited.oomKilled());
    }

    @Test
    void pidsLimitIsEnforced() throws Exception {
        String id = run(spec(new RuntimeSpec.Resources(0, 0, 0, 0, 8),
                "sh", "-c", "i=0; while [ $i -lt 20 ]; do sleep 1000 & i=$((i+1)); done; echo spawned all"));
        assertNotEquals(0, runtime.exit(id).get(PATIENCE_SECONDS, TimeUnit.SECONDS).exitCode());
        assertTrue(log(id).contains("can't fork"), log(id));
        assertFalse(log(id).contains("spawned all"), log(id));
    }

    @Test
    void updateChangesARunningContainersLimits() throws Exception {
        String id = run(spec("sleep", "1000"));
        // 20: room for the runtime's own exec (a Go runc starts threads in the cgroup), not for 40 sleeps
        runtime.update(id, new RuntimeSpec.Resources(64 * 1024 * 1024, 0, 0, 0, 20));
        assertEquals(64 * 1024 * 1024, runtime.usage(id).memoryLimit());
        String forks = "i=0; while [ $i -lt 40 ]; do sleep 1 & i=$((i+1)); done; wait; echo forked";
        ExecProcess limited = runtime.exec(id, new ExecSpec(process(List.of("sh", "-c", forks), List.of(), List.of()),
                false));
        Map<Integer, String> refused = readAll(limited);
        limited.waitFor();
        assertTrue(refused.get(Attachment.STDERR).contains("can't fork"), refused.toString());

        runtime.update(id, new RuntimeSpec.Resources(64 * 1024 * 1024, 0, 0, 0, 0)); // 0: no pids limit
        ExecProcess free = runtime.exec(id, new ExecSpec(process(List.of("sh", "-c", forks), List.of(), List.of()),
                false));
        assertEquals("forked\n", readAll(free).get(Attachment.STDOUT));
        assertEquals(0, free.waitFor());
    }

    @Test
    void processesAndUsageComeFromTheCgroups() throws Exception {
        String id = run(spec("sh", "-c", "sleep 1000 & sleep 1000 & echo spawned; wait"));
        awaitLog(id, "spawned");
        List<Long> processes = runtime.processes(id);
        assertEquals(3, processes.size(), processes.toString());
        assertEquals(runtime.state(id).pid(), processes.get(0));
        ResourceUsage usage = runtime.usage(id);
        assertEquals(3, usage.pids(), usage.toString());
        assertTrue(usage.memoryBytes() > 0, usage.toString());
        assertTrue(usage.memoryLimit() > usage.memoryBytes(), usage.toString());
        assertTrue(usage.cpuNanos() > 0, usage.toString());
    }

    @Test
    void hasDockersDefaultCapabilitiesPlusAddedMinusDropped() throws Exception {
        assertEquals(DEFAULT_CAPS, capEff(spec("grep", "CapEff", "/proc/self/status")));
        RuntimeSpec tweaked = withProcess(spec("grep", "CapEff", "/proc/self/status"),
                process(List.of("grep", "CapEff", "/proc/self/status"), List.of("NET_ADMIN"), List.of("CAP_CHOWN")));
        long expected = (DEFAULT_CAPS | (1L << 12)) & ~1L;
        assertEquals(expected, capEff(tweaked));
    }

    @Test
    void privilegedHasEveryCapabilityTheDaemonHasHostDevicesAndNoSeccomp() throws Exception {
        RuntimeSpec spec = spec("sh", "-c", "grep CapEff /proc/self/status; test -c /dev/loop-control && echo device;"
                + " unshare -U true && echo unshared");
        spec = new RuntimeSpec(rootfs, false, spec.process(), "box", "", List.of(), RuntimeSpec.Resources.NONE, null,
                true, null, List.of(), List.of(), List.of(), List.of(), Map.of(), 0);
        String id = run(spec);
        assertEquals(0, runtime.exit(id).get(PATIENCE_SECONDS, TimeUnit.SECONDS).exitCode());
        String output = log(id);
        long bounding = Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(line -> line.startsWith("CapBnd:")).map(line -> Long.parseLong(line.substring(7).trim(), 16))
                .findFirst().orElseThrow();
        assertTrue(output.startsWith("CapEff:\t" + String.format("%016x", bounding)), output);
        assertTrue(output.contains("device\n"), output);
        assertTrue(output.contains("unshared\n"), output);
    }

    @Test
    void seccompBlocksWhatDockerBlocksAndAllowsANormalWorkload() throws Exception {
        // creating a user namespace needs no capability: only seccomp refuses it
        String blocked = run(spec("sh", "-c", "unshare -U true && echo unshared; mount -t tmpfs none /mnt"
                + " && echo mounted; ls /bin | wc -l; echo done"));
        assertEquals(0, runtime.exit(blocked).get(PATIENCE_SECONDS, TimeUnit.SECONDS).exitCode());
        String output = log(blocked);
        assertFalse(output.contains("unshared"), output);
        assertFalse(output.contains("mounted"), output);
        assertTrue(output.contains("done"), output);

        RuntimeSpec unconfined = spec("sh", "-c", "unshare -U true && echo unshared");
        unconfined = new RuntimeSpec(unconfined.rootfs(), false, unconfined.process(), "box", "", List.of(),
                RuntimeSpec.Resources.NONE, null, false, "unconfined", List.of(), List.of(), List.of(), List.of(),
                Map.of(), 0);
        String allowed = run(unconfined);
        runtime.exit(allowed).get(PATIENCE_SECONDS, TimeUnit.SECONDS);
        assertTrue(log(allowed).contains("unshared"), "without seccomp the same call works: " + log(allowed));
    }

    @Test
    void runsAsAUserNamedInTheImagesPasswd() throws Exception {
        RuntimeSpec spec = withProcess(spec("id"), new RuntimeSpec.Process(List.of("id"), List.of(), "", "app",
                false, false, List.of(), List.of()));
        String id = run(spec);
        runtime.exit(id).get(PATIENCE_SECONDS, TimeUnit.SECONDS);
        assertEquals("uid=1000(app) gid=1000(app) groups=50(staff),1000(app)", log(id).trim());
    }

    @Test
    void aReadOnlyRootfsRefusesWrites() throws Exception {
        RuntimeSpec spec = spec("sh", "-c", "touch /file || echo refused");
        spec = new RuntimeSpec(rootfs, true, spec.process(), "box", "", List.of(), RuntimeSpec.Resources.NONE, null,
                false, null, List.of(), List.of(), List.of(), List.of(), Map.of(), 0);
        String id = run(spec);
        runtime.exit(id).get(PATIENCE_SECONDS, TimeUnit.SECONDS);
        assertTrue(log(id).contains("Read-only file system"), log(id));
        assertTrue(log(id).contains("refused"));
        assertFalse(Files.exists(rootfs.resolve("file")));
    }

    @Test
    void tmpfsAndBindMounts() throws Exception {
        Path host = Files.createDirectories(temp.resolve("host"));
        Files.writeString(host.resolve("hello.txt"), "from the host");
        RuntimeSpec spec = spec("sh", "-c", "cat /data/hello.txt; echo; grep ' /scratch ' /proc/mounts;"
                + " echo written > /data/back.txt; touch /ro/x || echo ro-refused");
        spec = new RuntimeSpec(rootfs, false, spec.process(), "box", "", List.of(
                new RuntimeSpec.Mount("/data", "bind", host.toString(), List.of()),
                new RuntimeSpec.Mount("/ro", "bind", host.toString(), List.of("ro")),
                new RuntimeSpec.Mount("/scratch", "tmpfs", "tmpfs", List.of("size=1m"))),
                RuntimeSpec.Resources.NONE, null, false, null, List.of(), List.of(), List.of(), List.of(), Map.of(), 0);
        String id = run(spec);
        runtime.exit(id).get(PATIENCE_SECONDS, TimeUnit.SECONDS);
        String output = log(id);
        assertTrue(output.contains("from the host"), output);
        assertTrue(output.contains("tmpfs /scratch tmpfs"), output);
        assertTrue(output.contains("ro-refused"), output);
        assertEquals("written\n", Files.readString(host.resolve("back.txt")));
    }

    @Test
    void hostnameHostsAndResolvConf() throws Exception {
        RuntimeSpec spec = spec("sh", "-c", "hostname; echo ---; cat /etc/hosts; echo ---; cat /etc/resolv.conf");
        spec = new RuntimeSpec(rootfs, false, spec.process(), "web-1", "", List.of(), RuntimeSpec.Resources.NONE,
                null, false, null, List.of("10.0.0.2\tdb"), List.of(), List.of(), List.of(), Map.of(), 0);
        String id = run(spec);
        runtime.exit(id).get(PATIENCE_SECONDS, TimeUnit.SECONDS);
        String[] parts = log(id).split("---\n");
        assertEquals("web-1", parts[0].trim());
        assertTrue(parts[1].contains("127.0.0.1\tlocalhost"), parts[1]);
        assertTrue(parts[1].contains("10.0.0.2\tdb"), parts[1]);
        assertTrue(parts[2].contains("nameserver "), parts[2]);
        assertFalse(parts[2].contains("nameserver 127."), parts[2]);

        RuntimeSpec withDns = new RuntimeSpec(rootfs, false, spec.process(), "web-2", "", List.of(),
                RuntimeSpec.Resources.NONE, null, false, null, List.of(), List.of("192.0.2.53"),
                List.of("example.test"), List.of("ndots:2"), Map.of(), 0);
        String second = run(withDns);
        runtime.exit(second).get(PATIENCE_SECONDS, TimeUnit.SECONDS);
        assertEquals("nameserver 192.0.2.53\nsearch example.test\noptions ndots:2\n", log(second).split("---\n")[2]);
    }

    // ---- working inside a running container ----------------------------------------------------------------

    @Test
    void attachReadsOutputAndWritesStdinWithHalfClose() throws Exception {
        String id = create(spec("sh", "-c", "echo started; while read line; do echo got $line; done; echo eof >&2"),
                true);
        runtime.start(id);
        awaitLog(id, "started");
        try (Attachment attachment = runtime.attach(id)) {
            OutputStream stdin = attachment.stdin();
            stdin.write("hello\n".getBytes(StandardCharsets.UTF_8));
            stdin.flush();
            stdin.close();
            ByteArrayOutputStream stdout = new ByteArrayOutputStream();
            ByteArrayOutputStream stderr = new ByteArrayOutputStream();
            for (Attachment.Output out; (out = attachment.read()) != null; ) {
                (out.stream() == Attachment.STDOUT ? stdout : stderr).write(out.data());
            }
            assertEquals("got hello\n", stdout.toString(StandardCharsets.UTF_8));
            assertEquals("eof\n", stderr.toString(StandardCharsets.UTF_8));
        }
        assertEquals(0, runtime.exit(id).get(PATIENCE_SECONDS, TimeUnit.SECONDS).exitCode());
    }

    @Test
    void execReportsExitCodeAndHonoursEnvUserAndWorkdir() throws Exception {
        String id = run(spec("sleep", "1000"));
        ExecProcess failing = runtime.exec(id, new ExecSpec(new RuntimeSpec.Process(List.of("sh", "-c", "exit 7"),
                List.of(), "", "", false, false, List.of(), List.of()), false));
        assertEquals(7, failing.waitFor());
        assertEquals(7, failing.exitCode());

        ExecProcess shown = runtime.exec(id, new ExecSpec(new RuntimeSpec.Process(
                List.of("sh", "-c", "echo $GREETING; id -u; pwd; echo oops >&2"), List.of("GREETING=hi"), "/home/app",
                "app", false, false, List.of(), List.of()), false));
        Map<Integer, String> output = readAll(shown);
        assertEquals(0, shown.waitFor());
        assertEquals("hi\n1000\n/home/app\n", output.get(Attachment.STDOUT));
        assertEquals("oops\n", output.get(Attachment.STDERR));

        ExecProcess interactive = runtime.exec(id, new ExecSpec(new RuntimeSpec.Process(List.of("cat"),
                List.of(), "", "", false, false, List.of(), List.of()), true));
        assertTrue(interactive.pid() > 0);
        interactive.stdin().write("piped\n".getBytes(StandardCharsets.UTF_8));
        interactive.stdin().close();
        assertEquals("piped\n", readAll(interactive).get(Attachment.STDOUT));
        assertEquals(0, interactive.waitFor());
    }

    @Test
    void execWithATerminal() throws Exception {
        String id = run(spec("sleep", "1000"));
        ExecProcess tty = runtime.exec(id, new ExecSpec(new RuntimeSpec.Process(
                List.of("sh", "-c", "tty; test -t 0 && echo terminal; stty size; read x; echo got $x; exit 5"),
                List.of(), "", "", true, false, List.of(), List.of()), true, 30, 100));
        // typed at once, before the runtime runs: only the container's terminal may echo it
        tty.stdin().write("line\n".getBytes(StandardCharsets.UTF_8));
        tty.stdin().flush();
        Map<Integer, String> output = readAll(tty);
        assertEquals(5, tty.waitFor());
        String text = output.get(Attachment.STDOUT);
        assertTrue(text.contains("/dev/pts/"), text);
        assertTrue(text.contains("terminal\r\n"), text);
        if (sizesExecTerminalsBeforeTheyRun()) {
            assertTrue(text.contains("30 100\r\n"), "the size from the start: " + text);
        }
        assertTrue(text.contains("got line"), text);
        assertEquals(2, text.split("line", -1).length - 1, "echoed once, then read: " + text);
        assertFalse(text.contains("\0") || text.contains("^@"), text);
        assertEquals("", output.get(Attachment.STDERR));
    }

    @Test
    void aNewInstanceKnowsContainersAnEarlierOneCreatedThatExitedMeanwhile() throws Exception {
        String id = run(spec("sleep", "1000"));
        long pid = runtime.state(id).pid();
        runtime.close();
        Commands.check(runtime.runtimeCommand("kill", id, "9"), null, Duration.ofSeconds(30));
        ProcessHandle.of(pid).ifPresent(p -> p.onExit().join());

        runtime = newRuntime();
        ContainerState state = runtime.exit(id).get(PATIENCE_SECONDS, TimeUnit.SECONDS);
        assertEquals(137, state.exitCode());
        assertEquals(ContainerState.Status.STOPPED, runtime.state(id).status());
        assertEquals(137, runtime.state(id).exitCode());
    }

    // ---- bad input ---------------------------------------------------------------------------------------------

    @Test
    void badInputIsRefusedClearlyAndLeavesNothing() throws Exception {
        RuntimeSpec good = spec("true");
        RuntimeSpec missingRootfs = new RuntimeSpec(temp.resolve("nowhere"), false, good.process(), "box", "",
                List.of(), RuntimeSpec.Resources.NONE, null, false, null, List.of(), List.of(), List.of(), List.of(),
                Map.of(), 0);
        assertRefused(missingRootfs, "is not a directory");
        assertRefused(withProcess(good, new RuntimeSpec.Process(List.of("true"), List.of(), "", "nobody-here", false,
                false, List.of(), List.of())), "unable to find user nobody-here");
        assertRefused(withProcess(good, process(List.of("true"), List.of("CAP_FLY"), List.of())),
                "unknown capability: \"CAP_FLY\"");
        // the runtime's own refusal comes back in its words
        IOException refused = assertThrows(IOException.class, () -> create(spec("/no/such/command")));
        assertTrue(refused.getMessage().contains("/no/such/command"), refused.getMessage());
        assertNothingLeft();
    }

    private void assertRefused(RuntimeSpec spec, String message) throws Exception {
        String id = newId();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> runtime.create(id, spec, io(id, false)));
        assertTrue(e.getMessage().contains(message), e.getMessage());
        assertFalse(Files.exists(runtime.stateRoot().resolve(id)));
        assertFalse(Cgroups.exists(CgroupLayout.pathOf(id)));
    }

    private void assertNothingLeft() throws IOException {
        try (Stream<Path> left = Files.list(runtime.stateRoot())) {
            assertEquals(List.of("exits"), left.map(p -> p.getFileName().toString()).toList());
        }
        assertEquals(List.of(), conmonsOf(runRoot));
        for (String id : created) {
            assertFalse(Cgroups.exists(CgroupLayout.pathOf(id)), "cgroup of " + id);
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    RuntimeSpec spec(String... args) {
        return spec(RuntimeSpec.Resources.NONE, args);
    }

    RuntimeSpec spec(RuntimeSpec.Resources resources, String... args) {
        return new RuntimeSpec(rootfs, false, process(List.of(args), List.of(), List.of()), "box", "", List.of(),
                resources, null, false, null, List.of(), List.of(), List.of(), List.of(), Map.of(), 0);
    }

    /**
     * Whether the runtime gives an exec's terminal the process's {@code consoleSize} before the process runs (runc
     * does; crun 1.8 sizes it only from its own terminal, after the start).
     */
    boolean sizesExecTerminalsBeforeTheyRun() {
        return true;
    }

    static RuntimeSpec.Process process(List<String> args, List<String> capAdd, List<String> capDrop) {
        return new RuntimeSpec.Process(args, List.of(), "", "", false, false, capAdd, capDrop);
    }

    static RuntimeSpec withProcess(RuntimeSpec spec, RuntimeSpec.Process process) {
        return new RuntimeSpec(spec.rootfs(), spec.readOnlyRootfs(), process, spec.hostname(), spec.domainname(),
                spec.mounts(), spec.resources(), spec.networkNamespace(), spec.privileged(), spec.seccomp(),
                spec.hosts(), spec.dns(), spec.dnsSearch(), spec.dnsOptions(), spec.sysctls(), spec.shmSize());
    }

    static String newId() {
        byte[] bytes = new byte[32];
        ThreadLocalRandom.current().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    ContainerIo io(String id, boolean openStdin) {
        return new ContainerIo(dataRoot.resolve("logs").resolve(id + ".log"), 0, openStdin);
    }

    String create(RuntimeSpec spec) throws IOException {
        return create(spec, false);
    }

    String create(RuntimeSpec spec, boolean openStdin) throws IOException {
        String id = newId();
        created.add(id);
        runtime.create(id, spec, io(id, openStdin));
        return id;
    }

    String run(RuntimeSpec spec) throws IOException {
        String id = create(spec);
        runtime.start(id);
        return id;
    }

    long capEff(RuntimeSpec spec) throws Exception {
        String id = run(spec);
        runtime.exit(id).get(PATIENCE_SECONDS, TimeUnit.SECONDS);
        String line = log(id).trim();
        return Long.parseLong(line.substring(line.indexOf(':') + 1).trim(), 16);
    }

    /** The log's records: time, stream, P|F, text. */
    List<String[]> logLines(String id) throws IOException {
        Path file = io(id, false).logFile();
        if (!Files.exists(file)) {
            return List.of();
        }
        return Files.readAllLines(file).stream().map(line -> line.split(" ", 4)).toList();
    }

    /** The log's text, lines joined as they were written. */
    String log(String id) throws IOException {
        StringBuilder text = new StringBuilder();
        for (String[] line : logLines(id)) {
            text.append(line.length > 3 ? line[3] : "");
            if (line[2].equals("F")) {
                text.append('\n');
            }
        }
        return text.toString();
    }

    void awaitLog(String id, String text) throws Exception {
        awaitTrue(() -> log(id).contains(text));
    }

    interface Check {
        boolean holds() throws Exception;
    }

    /** Waits until {@code check} holds, failing after {@link #PATIENCE_SECONDS}. */
    static void awaitTrue(Check check) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PATIENCE_SECONDS);
        while (!check.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + PATIENCE_SECONDS + " s");
            }
            Thread.sleep(20);
        }
    }

    static Map<Integer, String> readAll(Attachment attachment) throws IOException {
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        for (Attachment.Output out; (out = attachment.read()) != null; ) {
            (out.stream() == Attachment.STDOUT ? stdout : stderr).write(out.data());
        }
        return Map.of(Attachment.STDOUT, stdout.toString(StandardCharsets.UTF_8),
                Attachment.STDERR, stderr.toString(StandardCharsets.UTF_8));
    }

    /** conmon processes whose command line names {@code dir}. */
    static List<String> conmonsOf(Path dir) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().command().map(c -> c.endsWith("conmon")).orElse(false))
                .filter(p -> p.info().arguments().map(a -> String.join(" ", a).contains(dir.toString())).orElse(false))
                .map(p -> p.pid() + " " + p.info().commandLine().orElse(""))
                .toList();
    }
}
