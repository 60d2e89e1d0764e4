package io.berth.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.images.BusyboxImages;
import io.berth.spi.containers.Container;
import io.berth.spi.containers.ContainerConfig;
import io.berth.spi.containers.HostConfig;
import io.berth.spi.containers.WaitCondition;
import io.berth.spi.driver.DriverStatus;
import io.berth.spi.events.Event;
import io.berth.spi.images.Image;
import io.berth.spi.runtime.Attachment;
import io.berth.spi.runtime.ContainerIo;
import io.berth.spi.runtime.ContainerRuntime;
import io.berth.spi.runtime.ContainerState;
import io.berth.spi.runtime.ExecProcess;
import io.berth.spi.runtime.ExecSpec;
import io.berth.spi.runtime.ResourceUsage;
import io.berth.spi.runtime.RuntimeSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.function.Executable;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What containers are before they run: create with the image's config merged, names, records on disk read back
 * by a new instance, rename, remove, prune, the image store's refusal to remove a used image, and bad input
 * refused with nothing created. Real image and layer stores; the runtime here runs nothing (these containers
 * are never started), so every call but {@code delete} of an unknown id fails the test.
 */
class ContainerRecordsTest {

    @TempDir
    Path dir;
    private BusyboxImages.Stores stores;
    private Containers containers;
    private Image image;
    private final List<Event> events = new ArrayList<>();
    private final EventLog eventLog = new EventLog(100);

    /** A runtime for containers that are never started. */
    static final class NothingRuns implements ContainerRuntime {
        @Override public DriverStatus status() { return DriverStatus.active(Map.of()); }
        @Override public void create(String id, RuntimeSpec spec, ContainerIo io) { throw unexpected(); }
        @Override public void start(String id) { throw unexpected(); }
        @Override public void kill(String id, int signal) { throw unexpected(); }
        @Override public void pause(String id) { throw unexpected(); }
        @Override public void resume(String id) { throw unexpected(); }
        @Override public void delete(String id, boolean force) { }
        @Override public ContainerState state(String id) { throw new NoSuchElementException(id); }
        @Override public CompletableFuture<ContainerState> exit(String id) { throw unexpected(); }
        @Override public Attachment attach(String id) { throw unexpected(); }
        @Override public ExecProcess exec(String id, ExecSpec spec) { throw unexpected(); }
        @Override public List<Long> processes(String id) { throw unexpected(); }
        @Override public ResourceUsage usage(String id) { throw unexpected(); }

        private static AssertionError unexpected() {
            return new AssertionError("this test runs no container");
        }
    }

    private final ContainerRuntime runtime = new NothingRuns();
    private final Runtimes runtimes = new Runtimes() {
        @Override
        public ContainerRuntime byName(String name) {
            return name.equals("none") ? runtime : null;
        }

        @Override
        public String defaultName() {
            return "none";
        }
    };

    @BeforeEach
    void setUp() throws IOException {
        stores = BusyboxImages.stores(dir.resolve("image"), imageId -> containers.usersOf(imageId));
        image = BusyboxImages.load(stores.images(), "busybox:latest", Map.of("Cmd", List.of("sh"),
                "Env", List.of("PATH=/bin", "LANG=C"), "WorkingDir", "/tmp", "StopSignal", "SIGQUIT"));
        eventLog.subscribe(0, null, events::add);
        containers = open();
    }

    @AfterEach
    void tearDown() {
        containers.close();
        eventLog.close();
    }

    /** The real volume store, asking the containers open now which volumes they use. */
    private io.berth.containers.volumes.LocalVolumes volumes() throws IOException {
        return new io.berth.containers.volumes.LocalVolumes(dir.resolve("volumes"),
                name -> containers == null ? List.of() : containers.containersUsing(name));
    }

    private Containers open() throws IOException {
        Containers opened = new Containers(dir.resolve("containers"), stores.images(), stores.layers(), volumes(),
                runtimes, () -> eventLog);
        opened.adoptAll();
        return opened;
    }

    static ContainerConfig request(String image, List<String> cmd) {
        return new ContainerConfig(null, null, null, false, false, false, null, false, false, false,
                List.of("LANG=de"), cmd, image, null, null, null, Map.of("app", "test"), null, null);
    }

    static HostConfig host(long memory, String restartPolicy, boolean autoRemove) {
        return new HostConfig(null, null, null, new HostConfig.RestartPolicy(restartPolicy, 0), autoRemove, null,
                null, null, null, null, null, null, false, false, false, null, null, 0, null, memory, 0, 0, 0, null, null);
    }

    @Test
    void createMergesTheImageConfigAndRecordsTheContainer() throws Exception {
        Container created = containers.create("web", request("busybox", List.of("echo", "hi")), null);
        assertTrue(created.id().matches("[0-9a-f]{64}"), created.id());
        assertEquals("/web", created.name());
        assertEquals(image.id(), created.image());
        assertEquals("echo", created.path());
        assertEquals(List.of("hi"), created.args());
        assertEquals(List.of("LANG=de", "PATH=/bin"), created.config().env());
        assertEquals("/tmp", created.config().workingDir());
        assertEquals("SIGQUIT", created.config().stopSignal());
        assertEquals(created.id().substring(0, 12), created.config().hostname());
        assertEquals("created", created.state().status());
        assertEquals("0001-01-01T00:00:00Z", created.state().startedAt());
        assertEquals("0001-01-01T00:00:00Z", created.state().finishedAt());
        assertEquals("vfs", created.driver());
        Path record = dir.resolve("containers").resolve(created.id()).resolve("container.json");
        assertTrue(Files.isRegularFile(record));
        assertEquals(dir.resolve("containers").resolve(created.id()).resolve(created.id() + "-k8s-file.log")
                .toString(), created.logPath());
        assertEquals(List.of(), stores.layers().changes(created.id()));

        assertEquals(created, containers.inspect("web"));
        assertEquals(created, containers.inspect("/web"));
        assertEquals(created, containers.inspect(created.id().substring(0, 8)));
        assertEquals(List.of(), containers.list(false));
        assertEquals(List.of(created), containers.list(true));
        assertEquals(0, containers.wait("web", WaitCondition.NOT_RUNNING).get(10, TimeUnit.SECONDS));

        containers.close();
        containers = open();
        assertEquals(created, containers.inspect(created.id()));
        Thread.sleep(100); // events are handed over on the subscriber's thread
        assertEquals("create", events.get(0).action());
        assertEquals("web", events.get(0).actor().attributes().get("name"));
        assertEquals("test", events.get(0).actor().attributes().get("app"));
    }

    @Test
    void namesAreGeneratedAndAUsedOneIsRefusedWithDockersMessage() throws IOException {
        Container first = containers.create(null, request("busybox", null), null);
        assertTrue(first.shortName().matches("[a-z]+_[a-z]+[0-9]?"), first.name());
        assertEquals(List.of("sh"), first.config().cmd());
        Container second = containers.create("taken", request("busybox", null), null);
        IllegalStateException conflict = assertThrows(IllegalStateException.class,
                () -> containers.create("taken", request("busybox", null), null));
        assertEquals("Conflict. The container name \"/taken\" is already in use by container \"" + second.id()
                + "\". You have to remove (or rename) that container to be able to reuse that name.",
                conflict.getMessage());
        assertThrows(IllegalStateException.class, () -> containers.rename(first.id(), "/taken"));
        assertEquals(2, containers.list(true).size());
    }

    @Test
    void renameKeepsEverythingButTheNameAndSurvivesARestartOfTheService() throws IOException {
        Container created = containers.create("old", request("busybox", null), null);
        containers.rename("old", "new");
        assertEquals("/new", containers.inspect(created.id()).name());
        assertThrows(NoSuchElementException.class, () -> containers.inspect("old"));
        containers.close();
        containers = open();
        assertEquals("/new", containers.inspect("new").name());
        assertThrows(IllegalArgumentException.class, () -> containers.rename("new", "no/slashes"));
    }

    @Test
    void removeTakesTheReadWriteLayerAndTheRecord() throws Exception {
        Container created = containers.create("gone", request("busybox", null), null);
        CompletableFuture<Integer> removed = containers.wait("gone", WaitCondition.REMOVED);
        containers.remove("gone", false, false);
        assertEquals(0, removed.get(10, TimeUnit.SECONDS));
        assertThrows(NoSuchElementException.class, () -> containers.inspect("gone"));
        assertFalse(Files.exists(dir.resolve("containers").resolve(created.id())));
        assertThrows(NoSuchElementException.class, () -> stores.layers().changes(created.id()));
        assertEquals("No such container: gone",
                assertThrows(NoSuchElementException.class, () -> containers.remove("gone", true, false))
                        .getMessage());
    }

    @Test
    void pruneRemovesContainersThatAreNotRunning() throws IOException {
        Container a = containers.create("pa", request("busybox", null), null);
        Container b = containers.create("pb", request("busybox", null), null);
        assertEquals(List.of(a.id(), b.id()).stream().sorted().toList(),
                containers.prune().stream().sorted().toList());
        assertEquals(List.of(), containers.list(true));
    }

    @Test
    void anImageAContainerUsesIsNotRemoved() throws IOException {
        Container created = containers.create("user", request("busybox", null), null);
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> stores.images().remove("busybox", false));
        assertTrue(refused.getMessage().startsWith("conflict: unable to remove repository reference \"busybox\""),
                refused.getMessage());
        assertTrue(refused.getMessage().contains(created.id().substring(0, 12)), refused.getMessage());
        assertEquals(1, stores.images().list().size());
        containers.remove("user", false, false);
        stores.images().remove("busybox", false);
        assertEquals(0, stores.images().list().size());
    }

    @Test
    void badInputIsRefusedWithAClearErrorAndNothingIsCreated() throws IOException {
        List<Executable> refusals = List.of(
                () -> containers.create("x1", request("nosuchimage", null), null),
                () -> containers.create("-bad", request("busybox", null), null),
                () -> containers.create("x2", request("busybox", null), host(-1, "no", false)),
                () -> containers.create("x3", request("busybox", null), host(0, "sometimes", false)),
                () -> containers.create("x4", request("busybox", null), host(0, "always", true)),
                () -> containers.create("x5", new ContainerConfig(null, null, null, false, false, false, null,
                        false, false, false, null, null, "busybox", null, null, List.of(""), null, "SIGNOPE", null),
                        null));
        List<String> messages = new ArrayList<>();
        for (Executable refusal : refusals) {
            RuntimeException e = assertThrows(RuntimeException.class, refusal);
            messages.add(e.getMessage());
        }
        assertEquals(List.of(
                "No such image: nosuchimage",
                "Invalid container name (-bad), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                "invalid memory limit -1: must not be negative",
                "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or"
                        + " 'unless-stopped'",
                "can't create 'AutoRemove' container with restart policy",
                "No command specified"), messages);
        Container kept = containers.create("kept", request("busybox", null), null);
        assertThrows(IllegalStateException.class, () -> containers.create("kept", request("busybox", null), null));
        assertEquals("Invalid signal: SIGNOPE", assertThrows(IllegalArgumentException.class,
                () -> containers.create("x6", new ContainerConfig(null, null, null, false, false, false, null, false,
                        false, false, null, List.of("sh"), "busybox", null, null, null, null, "SIGNOPE", null), null))
                .getMessage());
        assertEquals("Invalid signal: NOPE", assertThrows(IllegalArgumentException.class,
                () -> containers.kill("kept", "NOPE")).getMessage());

        assertEquals(List.of(kept), containers.list(true));
        try (Stream<Path> records = Files.list(dir.resolve("containers"))) {
            assertEquals(List.of(kept.id()), records.map(p -> p.getFileName().toString()).toList());
        }
        try (Stream<Path> layers = Files.list(dir.resolve("image/layers/mounts"))) {
            assertEquals(List.of(kept.id() + ".json"), layers.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void aCreateThatDiedHalfWayIsCleanedUpByTheNextInstance() throws IOException {
        containers.create("whole", request("busybox", null), null);
        String halfId = "ab".repeat(32);
        stores.layers().createReadWrite(halfId, image.layers().get(0));
        Files.createDirectories(dir.resolve("containers").resolve(halfId));
        containers.close();
        containers = open();
        assertEquals(1, containers.list(true).size());
        assertFalse(Files.exists(dir.resolve("containers").resolve(halfId)));
        assertThrows(NoSuchElementException.class, () -> stores.layers().changes(halfId));
        assertNotEquals(null, containers.inspect("whole"));
    }
}
