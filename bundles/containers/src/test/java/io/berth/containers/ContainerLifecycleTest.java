package io.berth.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.images.BusyboxImages;
import io.berth.runtime.oci.ConmonRuntime;
import io.berth.runtime.oci.OciRuntimes;
import io.berth.spi.containers.Container;
import io.berth.spi.containers.ContainerConfig;
import io.berth.spi.containers.ExecConfig;
import io.berth.spi.containers.HostConfig;
import io.berth.spi.containers.LogOptions;
import io.berth.spi.containers.LogReader;
import io.berth.spi.containers.PathStat;
import io.berth.spi.containers.Top;
import io.berth.spi.containers.WaitCondition;
import io.berth.spi.events.Event;
import io.berth.spi.runtime.Attachment;
import io.berth.spi.runtime.ContainerRuntime;
import io.berth.spi.runtime.ExecProcess;
import io.berth.storage.support.DiskFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real containers: busybox images in real vfs layer and image stores, run by the real OCI runtime driver (the
 * host's default, runc or crun under conmon). Every container is removed afterwards and nothing may stay: no
 * conmon, no runtime state.
 */
class ContainerLifecycleTest {

    /** How long a test waits for something a container does; never an assertion about speed. */
    static final long PATIENCE_SECONDS = 60;

    @TempDir
    Path dir;
    private Path runRoot;
    private BusyboxImages.Stores stores;
    private ConmonRuntime runtime;
    private Containers containers;
    private final EventLog eventLog = new EventLog(1000);
    private final List<Event> events = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        runRoot = Files.createTempDirectory(Path.of("/tmp"), "bct");
        stores = BusyboxImages.stores(dir.resolve("image"), imageId -> containers.usersOf(imageId));
        BusyboxImages.load(stores.images(), "busybox:latest", Map.of("Cmd", List.of("sh")));
        eventLog.subscribe(0, null, events::add);
        runtime = newRuntime();
        containers = open(runtime);
    }

    private ConmonRuntime newRuntime() throws IOException {
        String name = OciRuntimes.defaultRuntime();
        return OciRuntimes.create(name, OciRuntimes.find(name).orElseThrow(), dir, runRoot);
    }

    /** The real volume store, asking the containers open now which volumes they use. */
    private io.berth.containers.volumes.LocalVolumes volumes() throws IOException {
        return new io.berth.containers.volumes.LocalVolumes(dir.resolve("volumes"),
                name -> containers == null ? List.of() : containers.containersUsing(name));
    }

    private Containers open(ContainerRuntime with) throws IOException {
        Containers opened = new Containers(dir.resolve("containers"), stores.images(), stores.layers(), volumes(),
                new Runtimes() {
                    @Override
                    public ContainerRuntime byName(String name) {
                        return name.equals(OciRuntimes.defaultRuntime()) ? with : null;
                    }

                    @Override
                    public String defaultName() {
                        return OciRuntimes.defaultRuntime();
                    }
                }, () -> eventLog);
        opened.adoptAll();
        return opened;
    }

    @AfterEach
    void tearDown() throws Exception {
        List<String> ids = new ArrayList<>();
        try {
            for (Container c : containers.list(true)) {
                ids.add(c.id());
                containers.remove(c.id(), true, false);
            }
            assertEquals(List.of(), containers.list(true));
        } finally {
            containers.close();
            runtime.close();
            eventLog.close();
            DiskFiles.deleteTree(runRoot);
        }
        List<String> left = ProcessHandle.allProcesses()
                .map(p -> p.info().commandLine().orElse(""))
                .filter(line -> ids.stream().anyMatch(line::contains)).toList();
        assertEquals(List.of(), left, "processes of removed containers are left");
        for (String id : ids) {
            for (String cgroup : List.of("/sys/fs/cgroup/pids/berth", "/sys/fs/cgroup/berth")) { // v1, v2
                assertFalse(Files.exists(Path.of(cgroup, id)), "cgroup " + cgroup + "/" + id + " is left");
            }
        }
    }

    static ContainerConfig run(List<String> cmd) {
        return new ContainerConfig(null, null, null, false, false, false, null, false, false, false, null, cmd,
                "busybox", null, null, null, null, null, null);
    }

    static HostConfig restart(String policy, int max, boolean autoRemove) {
        return new HostConfig(null, null, null, new HostConfig.RestartPolicy(policy, max), autoRemove, null, null,
                null, null, null, null, null, false, false, false, null, null, 0, null, 0, 0, 0, 0, null, null);
    }

    /** Starts a shell script that prints {@code ready} once its traps are set, and waits for that. */
    private Container startScript(String name, String script, HostConfig host) throws Exception {
        Container c = containers.create(name, run(List.of("sh", "-c", script)), host);
        assertTrue(containers.start(name));
        awaitTrue(() -> logText(name).contains("ready"), "the container printed ready");
        return c;
    }

    private String logText(String name) {
        try (LogReader reader = containers.logs(name, LogOptions.ALL)) {
            StringBuilder text = new StringBuilder();
            for (LogReader.Entry e; (e = reader.next()) != null; ) {
                text.append(new String(e.data(), StandardCharsets.UTF_8));
            }
            return text.toString();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PATIENCE_SECONDS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }

    private static int await(CompletableFuture<Integer> future) throws Exception {
        return future.get(PATIENCE_SECONDS, TimeUnit.SECONDS);
    }

    private List<String> actions(String id) throws InterruptedException {
        Thread.sleep(100); // subscribers get events on their own thread
        return events.stream().filter(e -> e.actor().id().equals(id)).map(Event::action).toList();
    }

    @Test
    void createStartLogsAndRemove() throws Exception {
        Container c = containers.create("hello", run(List.of("sh", "-c", "echo hello; echo oops >&2; exit 3")),
                null);
        assertTrue(containers.start("hello"));
        assertEquals(3, await(containers.wait("hello", WaitCondition.NOT_RUNNING)));
        Container exited = containers.inspect("hello");
        assertEquals("exited", exited.state().status());
        assertEquals(3, exited.state().exitCode());
        assertEquals(0, exited.state().pid());
        assertNotEquals(Timestamps.NEVER, exited.state().startedAt());
        assertNotEquals(Timestamps.NEVER, exited.state().finishedAt());
        assertFalse(exited.state().running());

        try (LogReader reader = containers.logs("hello", LogOptions.ALL)) {
            List<String> entries = new ArrayList<>();
            for (LogReader.Entry e; (e = reader.next()) != null; ) {
                entries.add(e.stream() + ":" + new String(e.data(), StandardCharsets.UTF_8));
            }
            assertEquals(List.of("1:hello\n", "2:oops\n"), entries.stream().sorted().toList());
        }
        CompletableFuture<Integer> again = containers.wait("hello", WaitCondition.NEXT_EXIT);
        assertTrue(containers.start("hello"), "an exited container starts again");
        assertEquals(3, await(again));
        containers.remove("hello", false, false);
        assertThrows(NoSuchElementException.class, () -> containers.inspect("hello"));
        assertFalse(Files.exists(dir.resolve("containers").resolve(c.id())));
        assertEquals(List.of("create", "start", "die", "start", "die", "destroy"), actions(c.id()));
        assertEquals("3", events.stream().filter(e -> e.action().equals("die")).findFirst().orElseThrow()
                .actor().attributes().get("exitCode"));
    }

    @Test
    void stopOfAProcessIgnoringSigtermTakesTheTimeoutThenSigkill() throws Exception {
        Container c = startScript("stubborn", "trap '' TERM; echo ready; while true; do sleep 1; done", null);
        assertEquals("running", containers.inspect("stubborn").state().status());
        assertTrue(containers.stop("stubborn", 1));
        Container stopped = containers.inspect("stubborn");
        assertEquals("exited", stopped.state().status());
        assertEquals(137, stopped.state().exitCode());
        Thread.sleep(100);
        assertEquals(List.of("15", "9"), events.stream().filter(e -> e.actor().id().equals(c.id()))
                .filter(e -> e.action().equals("kill")).map(e -> e.actor().attributes().get("signal")).toList());
        assertTrue(actions(c.id()).containsAll(List.of("die", "stop")));
        assertFalse(containers.stop("stubborn", 1), "a stopped container: nothing to do (304)");
    }

    @Test
    void stopOfAProcessThatHandlesItsStopSignalNeedsNoSigkill() throws Exception {
        ContainerConfig config = new ContainerConfig(null, null, null, false, false, false, null, false, false,
                false, null, List.of("sh", "-c", "trap 'exit 0' QUIT; echo ready; while true; do sleep 0.1; done"),
                "busybox", null, null, null, null, "SIGQUIT", null);
        Container c = containers.create("polite", config, null);
        containers.start("polite");
        awaitTrue(() -> logText("polite").contains("ready"), "ready");
        assertTrue(containers.stop("polite", (int) PATIENCE_SECONDS));
        assertEquals(0, containers.inspect("polite").state().exitCode());
        Thread.sleep(100);
        assertEquals(List.of("3"), events.stream().filter(e -> e.actor().id().equals(c.id()))
                .filter(e -> e.action().equals("kill")).map(e -> e.actor().attributes().get("signal")).toList());
    }

    @Test
    void killSendsASignalByNameOrNumber() throws Exception {
        startScript("target", "trap 'exit 42' USR1; echo ready; while true; do sleep 0.1; done", null);
        CompletableFuture<Integer> exit = containers.wait("target", WaitCondition.NEXT_EXIT);
        containers.kill("target", "SIGUSR1");
        assertEquals(42, await(exit));
        assertEquals(42, containers.inspect("target").state().exitCode());
        assertThrows(IllegalStateException.class, () -> containers.kill("target", "KILL"));

        containers.start("target");
        awaitTrue(() -> logText("target").split("ready", -1).length == 3, "ready again");
        assertThrows(IllegalArgumentException.class, () -> containers.kill("target", "SIGNOPE"));
        assertTrue(containers.inspect("target").state().running(), "a bad signal changes nothing");
        containers.kill("target", "9");
        assertEquals(137, await(containers.wait("target", WaitCondition.NOT_RUNNING)));
    }

    @Test
    void waitConditions() throws Exception {
        Container c = containers.create("waiter", run(List.of("sh", "-c", "exit 5")), null);
        assertEquals(0, await(containers.wait("waiter", WaitCondition.NOT_RUNNING)));
        CompletableFuture<Integer> next = containers.wait("waiter", WaitCondition.NEXT_EXIT);
        CompletableFuture<Integer> removed = containers.wait("waiter", WaitCondition.REMOVED);
        assertFalse(next.isDone());
        containers.start("waiter");
        assertEquals(5, await(next));
        assertFalse(removed.isDone());
        containers.remove(c.id(), false, false);
        assertEquals(5, await(removed));
    }

    @Test
    void onFailureWithAMaximumRestartsExactlyThatOften() throws Exception {
        Container c = containers.create("flaky", run(List.of("sh", "-c", "echo run; exit 1")),
                restart("on-failure", 2, false));
        containers.start("flaky");
        awaitTrue(() -> {
            Container now = containers.inspect("flaky");
            return now.restartCount() == 2 && now.state().status().equals("exited");
        }, "two restarts and a final exit");
        // a third restart would follow the last exit after at most 400 ms of back-off
        Thread.sleep(1500);
        Container last = containers.inspect("flaky");
        assertEquals(2, last.restartCount());
        assertEquals("exited", last.state().status());
        assertEquals(1, last.state().exitCode());
        assertEquals(3, actions(c.id()).stream().filter("start"::equals).count());
        assertEquals(3, logText("flaky").split("run\n", -1).length - 1);
    }

    @Test
    void alwaysRestartsUntilTheUserStopsIt() throws Exception {
        Container c = containers.create("phoenix", run(List.of("sh", "-c", "exit 0")),
                restart("always", 0, false));
        containers.start("phoenix");
        awaitTrue(() -> containers.inspect("phoenix").restartCount() >= 2, "two restarts");
        containers.stop("phoenix", 1);
        Container stopped = containers.inspect("phoenix");
        assertEquals("exited", stopped.state().status());
        int count = stopped.restartCount();
        Thread.sleep(1500);
        assertEquals("exited", containers.inspect("phoenix").state().status(), "a user stop does not restart");
        assertEquals(count, containers.inspect("phoenix").restartCount());
        assertTrue(actions(c.id()).contains("stop"));
    }

    @Test
    void aUserStopOfARunningContainerDoesNotRestartIt() throws Exception {
        startScript("steady", "echo ready; while true; do sleep 0.1; done", restart("unless-stopped", 0, false));
        containers.stop("steady", 1);
        Thread.sleep(1500);
        Container c = containers.inspect("steady");
        assertEquals("exited", c.state().status());
        assertEquals(0, c.restartCount());
        assertTrue(containers.start("steady"), "a start turns the policy on again");
        assertEquals("running", containers.inspect("steady").state().status());
    }

    @Test
    void autoRemoveRemovesTheContainerAfterItExits() throws Exception {
        Container c = containers.create("brief", run(List.of("echo", "bye")), restart("no", 0, true));
        CompletableFuture<Integer> removed = containers.wait("brief", WaitCondition.REMOVED);
        containers.start("brief");
        assertEquals(0, await(removed));
        assertThrows(NoSuchElementException.class, () -> containers.inspect("brief"));
        assertFalse(Files.exists(dir.resolve("containers").resolve(c.id())));
        assertEquals(List.of("create", "start", "die", "destroy"), actions(c.id()));
    }

    @Test
    void pauseAndUnpause() throws Exception {
        Container c = startScript("sleepy", "echo ready; while true; do sleep 0.1; done", null);
        containers.pause("sleepy");
        Container paused = containers.inspect("sleepy");
        assertEquals("paused", paused.state().status());
        assertTrue(paused.state().paused());
        assertTrue(paused.state().running());
        assertThrows(IllegalStateException.class, () -> containers.pause("sleepy"));
        assertThrows(IllegalStateException.class,
                () -> containers.exec("sleepy", new ExecConfig(List.of("true"), null, null, null, false, false,
                        false)));
        containers.unpause("sleepy");
        assertEquals("running", containers.inspect("sleepy").state().status());
        assertThrows(IllegalStateException.class, () -> containers.unpause("sleepy"));
        containers.pause("sleepy");
        assertTrue(containers.stop("sleepy", 1), "a paused container stops");
        assertEquals("exited", containers.inspect("sleepy").state().status());
        assertTrue(actions(c.id()).containsAll(List.of("pause", "unpause")));
    }

    @Test
    void restartStopsAndStartsItAgain() throws Exception {
        Container c = startScript("again", "echo ready; while true; do sleep 0.1; done", null);
        long before = containers.inspect("again").state().pid();
        containers.restart("again", 1);
        Container after = containers.inspect("again");
        assertEquals("running", after.state().status());
        assertNotEquals(before, after.state().pid());
        List<String> actions = actions(c.id());
        assertEquals(List.of("die", "stop", "start", "restart"),
                actions.subList(actions.lastIndexOf("die"), actions.size()));
    }

    @Test
    void renameARunningContainer() throws Exception {
        Container c = startScript("before", "echo ready; while true; do sleep 0.1; done", null);
        containers.rename("before", "after");
        assertEquals("/after", containers.inspect(c.id()).name());
        assertTrue(containers.inspect("after").state().running());
        Thread.sleep(100);
        Event renamed = events.stream().filter(e -> e.action().equals("rename")).findFirst().orElseThrow();
        assertEquals("/before", renamed.actor().attributes().get("oldName"));
        assertEquals("after", renamed.actor().attributes().get("name"));
    }

    @Test
    void logsTailSinceAndFollow() throws Exception {
        containers.create("talker", run(List.of("sh", "-c",
                "echo one; echo two; sleep 1; echo three; echo err >&2")), null);
        containers.start("talker");
        List<String> followed = new ArrayList<>();
        try (LogReader follow = containers.logs("talker", new LogOptions(true, false, true, -1, null, null))) {
            for (LogReader.Entry e; (e = follow.next()) != null; ) {
                followed.add(new String(e.data(), StandardCharsets.UTF_8));
            }
        }
        assertEquals(List.of("one\n", "two\n", "three\n"), followed, "follow ends when the container has stopped");
        assertFalse(containers.inspect("talker").state().running());

        List<LogReader.Entry> all = new ArrayList<>();
        try (LogReader reader = containers.logs("talker", LogOptions.ALL)) {
            for (LogReader.Entry e; (e = reader.next()) != null; ) {
                all.add(e);
            }
        }
        assertEquals(4, all.size());
        try (LogReader tail = containers.logs("talker", new LogOptions(true, true, false, 2, null, null))) {
            assertEquals("three\n", new String(tail.next().data(), StandardCharsets.UTF_8));
            assertEquals("err\n", new String(tail.next().data(), StandardCharsets.UTF_8));
            assertEquals(null, tail.next());
        }
        Instant third = all.get(2).time();
        try (LogReader since = containers.logs("talker", new LogOptions(true, true, false, -1, third, null))) {
            List<String> texts = new ArrayList<>();
            for (LogReader.Entry e; (e = since.next()) != null; ) {
                texts.add(new String(e.data(), StandardCharsets.UTF_8));
            }
            assertEquals(List.of("three\n", "err\n"), texts);
        }
    }

    @Test
    void execTopAndStatsOfARunningContainer() throws Exception {
        startScript("busy", "echo ready; while true; do sleep 0.1; done", null);
        long pid = containers.inspect("busy").state().pid();
        Top top = containers.top("busy", null);
        assertEquals(List.of("UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"), top.titles());
        assertTrue(top.processes().stream().anyMatch(row -> row.get(1).equals(String.valueOf(pid))),
                top.toString());
        ExecProcess exec = containers.exec("busy", new ExecConfig(List.of("sh", "-c", "echo $X-$(hostname)"),
                List.of("X=exec"), null, null, false, false, false));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Attachment.Output o; (o = exec.read()) != null; ) {
            out.write(o.data());
        }
        assertEquals(0, exec.waitFor());
        Container c = containers.inspect("busy");
        assertEquals("exec-" + c.id().substring(0, 12) + "\n", out.toString(StandardCharsets.UTF_8));
        exec.close();
        awaitTrue(() -> events.stream().anyMatch(e -> e.action().equals("exec_die")
                && "0".equals(e.actor().attributes().get("exitCode"))), "exec_die with its exit code");
        assertTrue(events.stream().anyMatch(e -> e.action().equals("exec_start: sh -c echo $X-$(hostname)")));
        assertTrue(containers.stats("busy").pids() >= 1);
        assertThrows(IllegalArgumentException.class,
                () -> containers.exec("busy", new ExecConfig(List.of(), null, null, null, false, false, false)));
    }

    @Test
    void attachTalksToTheContainerAndTheDetachKeysLeaveItRunning() throws Exception {
        ContainerConfig config = new ContainerConfig(null, null, null, false, false, false, null, false, true,
                false, null, List.of("sh", "-c", "echo ready; while read line; do echo got $line; done"), "busybox",
                null, null, null, null, null, null);
        Container c = containers.create("talkative", config, null);
        containers.start("talkative");
        awaitTrue(() -> logText("talkative").contains("ready"), "ready");
        assertThrows(IllegalArgumentException.class, () -> containers.attach("talkative", "ctrl-1"));
        Attachment attachment = containers.attach("talkative", "ctrl-x,q");
        attachment.stdin().write("hello\n".getBytes(StandardCharsets.UTF_8));
        attachment.stdin().flush();
        Attachment.Output output = attachment.read();
        assertEquals("got hello\n", new String(output.data(), StandardCharsets.UTF_8));
        attachment.stdin().write(new byte[] {'q', '\n', 24, 'q'}); // a line "q", then ctrl-x,q: detach
        assertEquals(null, attachment.read());
        assertTrue(containers.inspect("talkative").state().running(), "detaching leaves it running");
        awaitTrue(() -> logText("talkative").contains("got q"), "the line typed before the keys arrived");
        assertTrue(actions(c.id()).containsAll(List.of("attach", "detach")));
        try (Attachment again = containers.attach("talkative", null)) {
            again.stdin().write("again\n".getBytes(StandardCharsets.UTF_8));
            assertEquals("got again\n", new String(again.read().data(), StandardCharsets.UTF_8),
                    "stdin stays open for the next attachment (not StdinOnce)");
        }
    }

    @Test
    void startAttachedMissesNoOutputAndStdinsEndReachesTheContainer() throws Exception {
        ContainerConfig config = new ContainerConfig(null, null, null, true, true, true, null, false, true,
                true, null, List.of("sh", "-c", "echo first; cat; echo after-eof >&2; exit 4"), "busybox",
                null, null, null, null, null, null);
        Container c = containers.create("piped", config, null);
        assertThrows(IllegalArgumentException.class, () -> containers.startAttached("piped", "ctrl-1"));
        assertFalse(containers.inspect("piped").state().running(), "bad detach keys start nothing");
        var exit = containers.wait("piped", WaitCondition.NEXT_EXIT);
        Attachment attachment = containers.startAttached("piped", null);
        attachment.stdin().write("through cat\n".getBytes(StandardCharsets.UTF_8));
        attachment.stdin().close(); // EOF: cat ends
        StringBuilder out = new StringBuilder();
        StringBuilder err = new StringBuilder();
        for (Attachment.Output o = attachment.read(); o != null; o = attachment.read()) {
            (o.stream() == Attachment.STDERR ? err : out).append(new String(o.data(), StandardCharsets.UTF_8));
        }
        assertEquals("first\nthrough cat\n", out.toString(), "the line printed at once is there too");
        assertEquals("after-eof\n", err.toString());
        assertEquals(4, exit.get(30, java.util.concurrent.TimeUnit.SECONDS));
        assertThrows(IllegalStateException.class, () -> {
            containers.start("piped");
            containers.startAttached("piped", null);
        }, "a running container is not started again");
        containers.remove(c.id(), true, false);
    }

    @Test
    void aRunningContainerIsRemovedOnlyWithForce() throws Exception {
        Container c = startScript("keeper", "echo ready; while true; do sleep 0.1; done", null);
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> containers.remove("keeper", false, false));
        assertTrue(refused.getMessage().contains("You cannot remove a running container " + c.id()),
                refused.getMessage());
        assertTrue(containers.inspect("keeper").state().running());
        IllegalStateException rmi = assertThrows(IllegalStateException.class,
                () -> stores.images().remove(c.image(), true));
        assertTrue(rmi.getMessage().contains("(cannot be forced) - image is being used by running container"),
                rmi.getMessage());
        containers.remove("keeper", true, false);
        assertThrows(NoSuchElementException.class, () -> containers.inspect("keeper"));
        assertEquals(List.of(), runtimeContainers());
    }

    @Test
    void aNewInstanceReadoptsRunningContainersAndRecordsExitsThatHappenedMeanwhile() throws Exception {
        startScript("survivor", "echo ready; while true; do sleep 0.1; done", null);
        startScript("quitter", "trap 'exit 7' USR1; echo ready; while true; do sleep 0.1; done",
                null);
        startScript("phoenix", "trap 'exit 3' USR1; echo ready; while true; do sleep 0.1; done",
                restart("always", 0, false));
        long pid = containers.inspect("survivor").state().pid();
        long quitterPid = containers.inspect("quitter").state().pid();
        long phoenixPid = containers.inspect("phoenix").state().pid();

        containers.close(); // the engine goes away: containers keep running
        runtime.close();
        assertTrue(ProcessHandle.of(pid).isPresent());
        new ProcessBuilder("kill", "-USR1", String.valueOf(quitterPid), String.valueOf(phoenixPid)).inheritIO()
                .start().waitFor();
        awaitTrue(() -> ProcessHandle.of(quitterPid).isEmpty() && ProcessHandle.of(phoenixPid).isEmpty(),
                "the quitter and the phoenix exited");

        runtime = newRuntime();
        containers = open(runtime);
        Container survivor = containers.inspect("survivor");
        assertEquals("running", survivor.state().status());
        assertEquals(pid, survivor.state().pid());
        awaitTrue(() -> containers.inspect("quitter").state().status().equals("exited"), "the exit is recorded");
        Container exited = containers.inspect("quitter");
        assertEquals(7, exited.state().exitCode());
        assertNotEquals(Timestamps.NEVER, exited.state().finishedAt());
        Thread.sleep(100);
        assertTrue(events.stream().anyMatch(e -> e.actor().id().equals(exited.id()) && e.action().equals("die")
                && "7".equals(e.actor().attributes().get("exitCode"))));

        awaitTrue(() -> containers.inspect("phoenix").restartCount() == 1
                && containers.inspect("phoenix").state().status().equals("running"), "its restart policy applied");
        assertNotEquals(phoenixPid, containers.inspect("phoenix").state().pid());

        assertTrue(containers.stop("survivor", 1), "the re-adopted container is managed");
        assertEquals(137, containers.inspect("survivor").state().exitCode());
    }

    /** Containers the runtime still has state for. */
    private List<String> runtimeContainers() throws IOException {
        Path state = dir.resolve("runtime");
        if (!Files.exists(state)) {
            return List.of();
        }
        try (var walk = Files.walk(state, 2)) {
            return walk.map(p -> p.getFileName().toString()).filter(n -> n.matches("[0-9a-f]{64}"))
                    .collect(Collectors.toList());
        }
    }

    static HostConfig binds(String... binds) {
        return new HostConfig(List.of(binds), null, null, null, false, null, null, null, null, null, null, null,
                false, false, false, null, null, 0, null, 0, 0, 0, 0, null, null);
    }

    private String runToEnd(String name, HostConfig host, String script) throws Exception {
        containers.create(name, run(List.of("sh", "-c", script)), host);
        CompletableFuture<Integer> exit = containers.wait(name, WaitCondition.NEXT_EXIT);
        containers.start(name);
        assertEquals(0, await(exit), () -> logText(name));
        return logText(name);
    }

    @Test
    void namedVolumesAreFilledFromTheImageKeptAcrossContainersAndRefusedWhileUsed() throws Exception {
        assertTrue(runToEnd("first", binds("conf:/etc"), "cat /etc/group; echo mine > /etc/mine")
                .contains("nogroup"), "the new volume got the image's /etc");
        assertEquals("mine\n", runToEnd("second", binds("conf:/etc"), "cat /etc/mine"));
        Container second = containers.inspect("second");
        assertEquals(1, second.mounts().size());
        assertEquals("conf", second.mounts().get(0).name());
        assertEquals("/etc", second.mounts().get(0).destination());
        assertEquals(List.of("first", "second").size(), volumes().inspect("conf") == null ? 0
                : containers.containersUsing("conf").size());
        assertThrows(IllegalStateException.class, () -> volumes().remove("conf", false));
        containers.remove("first", false, true);
        containers.remove("second", false, true);
        assertTrue(volumes().exists("conf"), "rm -v keeps named volumes");
        volumes().remove("conf", false);
    }

    @Test
    void anImageVolumeBecomesAnAnonymousVolumeThatRmVRemoves() throws Exception {
        BusyboxImages.load(stores.images(), "withvolume:1", Map.of("Cmd", List.of("sh"),
                "Volumes", Map.of("/etc", Map.of())));
        Container c = containers.create("anon", new ContainerConfig(null, null, null, false, false, false, null,
                false, false, false, null, List.of("cat", "/etc/passwd"), "withvolume:1", null, null, null, null,
                null, null), null);
        String volume = c.mounts().get(0).name();
        assertTrue(volume.matches("[0-9a-f]{64}"), volume);
        assertTrue(volumes().isAnonymous(volume));
        containers.remove("anon", false, true);
        assertFalse(volumes().exists(volume), "rm -v removed the anonymous volume");
    }

    @Test
    void copyExportDiffAndCommitWorkOnTheContainersFiles() throws Exception {
        runToEnd("files", null, "echo made > /tmp/made; rm /etc/group");
        java.io.ByteArrayOutputStream tar = new java.io.ByteArrayOutputStream();
        PathStat stat = containers.copyFrom("files", "/tmp/made", tar);
        assertEquals("made", stat.name());
        assertEquals(5, stat.size());
        assertTrue(new String(tar.toByteArray(), StandardCharsets.ISO_8859_1).contains("made\n"));

        containers.copyTo("files", "/", new java.io.ByteArrayInputStream(tarOf("copied", "in\n")), false);
        assertEquals(3, containers.stat("files", "/copied").size());

        java.io.ByteArrayOutputStream export = new java.io.ByteArrayOutputStream();
        containers.export("files", export);
        String exported = new String(export.toByteArray(), StandardCharsets.ISO_8859_1);
        assertTrue(exported.contains("bin/busybox") && exported.contains("copied"), "export has the whole rootfs");

        List<String> changes = containers.changes("files").stream().map(ch -> ch.kind() + " " + ch.path()).toList();
        assertTrue(changes.contains("ADDED /tmp/made") && changes.contains("DELETED /etc/group")
                && changes.contains("ADDED /copied"), changes.toString());

        io.berth.spi.images.Image image = containers.commit("files", new io.berth.spi.containers.CommitRequest(
                "committed:1", "from a test", null, List.of("CMD [\"cat\", \"/tmp/made\"]"), true));
        assertEquals(2, image.layers().size(), "the image's layer and the container's");
        containers.create("fromcommit", new ContainerConfig(null, null, null, false, false, false, null, false,
                false, false, null, null, "committed:1", null, null, null, null, null, null), null);
        CompletableFuture<Integer> exit = containers.wait("fromcommit", WaitCondition.NEXT_EXIT);
        containers.start("fromcommit");
        assertEquals(0, await(exit));
        assertEquals("made\n", logText("fromcommit"), "the committed image has the file and the new CMD");
    }

    private static byte[] tarOf(String name, String content) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (var tar = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(bytes)) {
            var entry = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(name);
            byte[] data = content.getBytes(StandardCharsets.UTF_8);
            entry.setSize(data.length);
            tar.putArchiveEntry(entry);
            tar.write(data);
            tar.closeArchiveEntry();
        }
        return bytes.toByteArray();
    }
}
