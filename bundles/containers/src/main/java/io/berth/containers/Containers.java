package io.berth.containers;

import io.berth.containers.files.ContainerFiles;
import io.berth.containers.volumes.LocalVolumes;
import io.berth.containers.networks.ContainerNetworks;
import io.berth.containers.volumes.MountPlanner;
import io.berth.spi.idmap.IdMap;
import io.berth.spi.containers.CommitRequest;
import io.berth.spi.containers.Container;
import io.berth.spi.containers.ContainerConfig;
import io.berth.spi.containers.ContainerService;
import io.berth.spi.containers.ContainerUpdate;
import io.berth.spi.containers.ExecConfig;
import io.berth.spi.containers.HostConfig;
import io.berth.spi.containers.LogOptions;
import io.berth.spi.containers.LogReader;
import io.berth.spi.containers.PathStat;
import io.berth.spi.containers.Top;
import io.berth.spi.containers.WaitCondition;
import io.berth.spi.events.Event;
import io.berth.spi.events.Events;
import io.berth.spi.images.Image;
import io.berth.spi.images.ImageStore;
import io.berth.spi.images.ImageUsers;
import io.berth.spi.images.LayerStore;
import io.berth.spi.runtime.Attachment;
import io.berth.spi.runtime.ContainerIo;
import io.berth.spi.runtime.ContainerRuntime;
import io.berth.spi.runtime.ContainerState;
import io.berth.spi.runtime.ExecProcess;
import io.berth.spi.runtime.ExecSpec;
import io.berth.spi.runtime.ResourceUsage;
import io.berth.spi.runtime.RuntimeSpec;
import io.berth.spi.storage.Change;
import io.berth.storage.support.DiskFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The containers of one data-root: their state on disk, their lifecycle through the {@link ContainerRuntime} each
 * was created with, restart policies, {@code --rm}, waits and events. Containers run outside the JVM: closing
 * this leaves them running, and a new instance over the same directory re-adopts them ({@link #adoptAll}).
 *
 * <p>Each container's state changes under its own lock; waits for an exit happen outside it, on the futures the
 * runtime completes, so an exit is recorded while a stop waits for it.
 */
final class Containers implements ContainerService, ImageUsers, AutoCloseable {

    private static final System.Logger LOG = System.getLogger("berth.containers");
    private static final int DEFAULT_STOP_TIMEOUT = 10;
    /** How long a SIGKILLed container may take to be reported exited (uninterruptible sleep, a slow host). */
    private static final int KILL_PATIENCE_SECONDS = 60;
    private static final SecureRandom RANDOM = new SecureRandom();

    /** One container in memory: its record and what waits on it. Guarded by its own monitor. */
    private static final class Managed {
        StoredContainer stored;
        /** Completes with the exit code at the next exit, then is replaced. */
        CompletableFuture<Integer> nextExit = new CompletableFuture<>();
        final CompletableFuture<Integer> removed = new CompletableFuture<>();
        /** Which exit watch is in force; a stale one's completion is ignored. */
        long watch;
        /** The runtime instance whose exit future is watched, null when none is. */
        ContainerRuntime watchedBy;
        Duration backoff;
        ScheduledFuture<?> pendingRestart;
        boolean gone;

        Managed(StoredContainer stored) {
            this.stored = stored;
        }

        String id() {
            return stored.id();
        }
    }

    private final ContainerStateFiles files;
    private final LocalVolumes volumes;
    private final MountPlanner planner;
    private final Path scratch;
    private final ImageStore images;
    private final LayerStore layers;
    private final Runtimes runtimes;
    private final Supplier<Events> events;
    private final UserNamespaces userNamespaces;
    private final ContainerNetworks networks;
    private final ContainerNames names = new ContainerNames();
    private final Map<String, Managed> containers = new ConcurrentHashMap<>();
    /** Names being given to containers under creation or rename, guarded by itself. */
    private final Set<String> reservedNames = new HashSet<>();
    private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1, runnable -> {
        Thread thread = new Thread(runnable, "berth-containers");
        thread.setDaemon(true);
        return thread;
    });
    /** One thread per running exec, waiting for it to end for the {@code exec_die} event. */
    private final ExecutorService execWatchers = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "berth-exec-watch");
        thread.setDaemon(true);
        return thread;
    });
    private volatile boolean closed;

    /**
     * Reads every container recorded under {@code root}; call {@link #adoptAll} to take over the running ones.
     *
     * @param events the event log, or a supplier of null while there is none
     */
    Containers(Path root, ImageStore images, LayerStore layers, LocalVolumes volumes, Runtimes runtimes,
               Supplier<Events> events) throws IOException {
        this(root, images, layers, volumes, runtimes, events, () -> null, null);
    }

    /**
     * @param userNamespaces the daemon's user namespace map for new containers
     * @param networks       joins containers to their networks, or null for none (each container gets a network
     *                       namespace of the runtime's own, or the host's)
     */
    Containers(Path root, ImageStore images, LayerStore layers, LocalVolumes volumes, Runtimes runtimes,
               Supplier<Events> events, UserNamespaces userNamespaces, ContainerNetworks networks) throws IOException {
        this.userNamespaces = userNamespaces;
        this.networks = networks;
        this.files = new ContainerStateFiles(root);
        this.volumes = volumes;
        this.planner = new MountPlanner(volumes);
        // docker cp spools incoming tars here; what a crash left in it is of no use
        this.scratch = root.resolveSibling("containers-tmp");
        DiskFiles.deleteTree(scratch);
        this.images = images;
        this.layers = layers;
        this.runtimes = runtimes;
        this.events = events;
        for (StoredContainer stored : files.loadAll(this::removeUnfinishedLayer)) {
            containers.put(stored.id(), new Managed(stored));
        }
    }

    /** Takes over every container recorded as running whose runtime is present. */
    void adoptAll() {
        for (Managed m : containers.values()) {
            adopt(m);
        }
    }

    /** A runtime service (re)appeared: take over its containers. */
    void runtimeAdded(String name) {
        for (Managed m : containers.values()) {
            if (name.equals(m.stored.runtime())) {
                adopt(m);
            }
        }
    }

    /** A runtime service went away: its exit futures will not complete; watch again when it is back. */
    void runtimeRemoved(String name) {
        for (Managed m : containers.values()) {
            synchronized (m) {
                if (name.equals(m.stored.runtime())) {
                    m.watch++;
                    m.watchedBy = null;
                }
            }
        }
    }

    /** Stops watching; the containers keep running and keep their state on disk for the next instance. */
    @Override
    public void close() {
        closed = true;
        scheduler.shutdownNow();
        execWatchers.shutdownNow();
    }

    // ---------------------------------------------------------------- create, list, inspect

    @Override
    public Container create(String name, ContainerConfig config, HostConfig host, Map<String, List<String>> aliases)
            throws IOException {
        if (config == null || config.image() == null || config.image().isBlank()) {
            throw new IllegalArgumentException("No image specified: Config.Image is empty");
        }
        HostConfig hostConfig = host == null ? defaultHostConfig() : host;
        String wanted = name == null || name.isEmpty() ? null : ContainerNames.validate(name);
        RestartPolicies.validate(hostConfig.restartPolicy(), hostConfig.autoRemove());
        RuntimeSpecs.validate(hostConfig);
        IdMap idMap = userNamespaceOf(hostConfig);
        if (networks != null) {
            networks.validate(hostConfig);
        }
        Image image = images.find(config.image());
        if (image == null) {
            throw new NoSuchElementException("No such image: " + config.image());
        }
        ConfigMerge.Merged merged = ConfigMerge.merge(config, ConfigMerge.imageConfig(images.config(image.id())));
        if (merged.config().stopSignal() != null && !merged.config().stopSignal().isEmpty()) {
            Signals.parse(merged.config().stopSignal());
        }
        String runtime = hostConfig.runtime() == null || hostConfig.runtime().isBlank() ? runtimes.defaultName()
                : hostConfig.runtime();
        if (runtimes.byName(runtime) == null) {
            if (hostConfig.runtime() != null && !hostConfig.runtime().isBlank()) {
                throw new IllegalArgumentException("unknown or invalid runtime name: " + runtime);
            }
            throw new IOException("container runtime " + runtime + " is not available");
        }
        hostConfig = withRuntime(hostConfig, runtime); // inspect shows the runtime that runs it, as Docker does
        String id = HexFormat.of().formatHex(randomBytes(32));
        ContainerConfig effective = withHostname(merged.config(), id.substring(0, 12));
        String containerName = reserveName(wanted);
        try {
            String parent = image.layers().isEmpty() ? null : image.layers().get(image.layers().size() - 1);
            String driver = layers.createReadWrite(id, parent, idMap);
            MountPlanner.Plan plan;
            try {
                plan = planMounts(id, hostConfig, effective, idMap);
            } catch (IOException | RuntimeException e) {
                removeLayerQuietly(id);
                throw e;
            }
            Container container = new Container(id, Timestamps.format(Instant.now()), merged.path(), merged.args(),
                    States.created(), image.id(), "/" + containerName, 0, driver, files.logFile(id).toString(),
                    plan.mountPoints(), effective, hostConfig, ContainerNetworks.declared(hostConfig, aliases));
            StoredContainer stored = new StoredContainer(container, runtime, false, parent, plan.mounts(),
                    plan.volumes(), idMap);
            try {
                files.save(stored);
            } catch (IOException | RuntimeException e) {
                files.delete(id);
                removeLayerQuietly(id);
                undoQuietly(plan);
                throw e;
            }
            containers.put(id, new Managed(stored));
            publish("create", stored, Map.of());
            return container;
        } finally {
            synchronized (reservedNames) {
                reservedNames.remove(containerName);
            }
        }
    }

    @Override
    public List<Container> list(boolean all) {
        List<Container> list = new ArrayList<>();
        for (Managed m : containers.values()) {
            synchronized (m) {
                if (!m.gone && (all || m.stored.isUp())) {
                    list.add(m.stored.container());
                }
            }
        }
        list.sort(Comparator.comparing((Container c) -> Timestamps.parse(c.created())).reversed());
        return list;
    }

    @Override
    public Container inspect(String nameOrId) {
        Managed m = find(nameOrId);
        synchronized (m) {
            return m.stored.container();
        }
    }

    // ---------------------------------------------------------------- lifecycle

    @Override
    public boolean start(String nameOrId) throws IOException {
        Managed m = find(nameOrId);
        synchronized (m) {
            if (!startableLocked(m)) {
                return false;
            }
            startLocked(m, false);
            return true;
        }
    }

    @Override
    public Attachment startAttached(String nameOrId, String detachKeys) throws IOException {
        byte[] sequence = DetachKeys.parse(detachKeys);
        Managed m = find(nameOrId);
        Attachment attachment;
        synchronized (m) {
            if (!startableLocked(m)) {
                throw new IllegalStateException("conflict: container " + m.id() + " is already running");
            }
            attachment = startLocked(m, true);
            publish("attach", m.stored, Map.of());
        }
        StoredContainer stored = m.stored;
        return DetachKeys.watch(attachment, sequence, () -> publish("detach", stored, Map.of()));
    }

    /**
     * Readies a start by the user: {@code false} if it runs already; a pending restart is cancelled and the
     * restart count and back-off start again.
     */
    private boolean startableLocked(Managed m) {
        Container.State state = m.stored.state();
        if (state.paused()) {
            throw new IllegalStateException("cannot start a paused container, try unpause instead");
        }
        if (state.running() && !state.restarting()) {
            return false;
        }
        cancelRestart(m);
        m.stored = m.stored.withStoppedByUser(false).withRestartCount(0);
        m.backoff = null;
        return true;
    }

    @Override
    public boolean stop(String nameOrId, Integer timeoutSeconds) throws IOException {
        Managed m = find(nameOrId);
        CompletableFuture<Integer> exited;
        ContainerRuntime runtime;
        synchronized (m) {
            if (cancelRestart(m)) {
                m.stored = m.stored.withStoppedByUser(true).withState(States.exited(m.stored.state(),
                        m.stored.state().exitCode(), false, Instant.now(), ""));
                files.save(m.stored);
                publish("stop", m.stored, Map.of());
                return true;
            }
            if (!m.stored.isUp()) {
                return false;
            }
            runtime = runtimeOf(m);
            m.stored = m.stored.withStoppedByUser(true);
            files.save(m.stored);
            exited = m.nextExit;
            signalRace(m, runtime, stopSignal(m.stored), exited);
        }
        int timeout = timeoutSeconds != null ? timeoutSeconds
                : m.stored.container().config().stopTimeout() != null
                        ? m.stored.container().config().stopTimeout() : DEFAULT_STOP_TIMEOUT;
        if (!awaitExit(exited, timeout)) {
            synchronized (m) {
                if (!exited.isDone()) {
                    signalRace(m, runtime, Signals.SIGKILL, exited);
                }
            }
            awaitKilled(m, exited);
        }
        publish("stop", m.stored, Map.of());
        return true;
    }

    @Override
    public void kill(String nameOrId, String signal) throws IOException {
        int number = signal == null || signal.isEmpty() ? Signals.SIGKILL : Signals.parse(signal);
        Managed m = find(nameOrId);
        synchronized (m) {
            if (!m.stored.isUp() || m.stored.state().restarting()) {
                throw new IllegalStateException("Cannot kill container: " + nameOrId + ": Container " + m.id()
                        + " is not running");
            }
            ContainerRuntime runtime = runtimeOf(m);
            if (number == Signals.SIGKILL || number == stopSignal(m.stored)) {
                m.stored = m.stored.withStoppedByUser(true); // it was ended on purpose: no restart policy
                files.save(m.stored);
            }
            signal(m, runtime, number);
        }
    }

    @Override
    public void restart(String nameOrId, Integer timeoutSeconds) throws IOException {
        Managed m = find(nameOrId);
        stop(m.id(), timeoutSeconds);
        start(m.id());
        publish("restart", m.stored, Map.of());
    }

    @Override
    public void remove(String nameOrId, boolean force, boolean volumes) throws IOException {
        Managed m = find(nameOrId);
        CompletableFuture<Integer> exited = null;
        synchronized (m) {
            if (m.stored.isUp()) {
                if (!force) {
                    throw new IllegalStateException("conflict: You cannot remove a running container " + m.id()
                            + ". Stop the container before attempting removal or force remove");
                }
                if (!cancelRestart(m)) {
                    ContainerRuntime runtime = runtimeOf(m);
                    m.stored = m.stored.withStoppedByUser(true);
                    exited = m.nextExit;
                    signalRace(m, runtime, Signals.SIGKILL, exited);
                }
            }
        }
        if (exited != null) {
            awaitKilled(m, exited);
        }
        removeStopped(m, volumes);
    }

    @Override
    public void pause(String nameOrId) throws IOException {
        Managed m = find(nameOrId);
        synchronized (m) {
            requireRunning(m);
            if (m.stored.state().paused()) {
                throw new IllegalStateException("Container " + m.id() + " is already paused");
            }
            runtimeOf(m).pause(m.id());
            m.stored = m.stored.withState(States.paused(m.stored.state(), true));
            files.save(m.stored);
            publish("pause", m.stored, Map.of());
        }
    }

    @Override
    public void unpause(String nameOrId) throws IOException {
        Managed m = find(nameOrId);
        synchronized (m) {
            if (!m.stored.state().paused()) {
                throw new IllegalStateException("Container " + m.id() + " is not paused");
            }
            runtimeOf(m).resume(m.id());
            m.stored = m.stored.withState(States.paused(m.stored.state(), false));
            files.save(m.stored);
            publish("unpause", m.stored, Map.of());
        }
    }

    @Override
    public CompletableFuture<Integer> wait(String nameOrId, WaitCondition condition) {
        Managed m = find(nameOrId);
        synchronized (m) {
            return switch (condition) {
                case NOT_RUNNING -> m.stored.isUp() ? m.nextExit.copy()
                        : CompletableFuture.completedFuture(m.stored.state().exitCode());
                case NEXT_EXIT -> m.nextExit.copy();
                case REMOVED -> m.removed.copy();
            };
        }
    }

    @Override
    public void rename(String nameOrId, String newName) throws IOException {
        String bare = ContainerNames.validate(newName);
        Managed m = find(nameOrId);
        String oldName;
        synchronized (m) {
            oldName = m.stored.container().name();
            if (oldName.equals("/" + bare)) {
                throw new IllegalArgumentException("Renaming a container with the same name as its current name");
            }
        }
        reserveName(bare);
        try {
            synchronized (m) {
                m.stored = m.stored.withName("/" + bare);
                files.save(m.stored);
                publish("rename", m.stored, Map.of("oldName", oldName));
            }
        } finally {
            synchronized (reservedNames) {
                reservedNames.remove(bare);
            }
        }
    }

    @Override
    public Container update(String nameOrId, ContainerUpdate update) throws IOException {
        Managed m = find(nameOrId);
        synchronized (m) {
            HostConfig before = m.stored.container().hostConfig();
            HostConfig after;
            try {
                after = updated(before, update);
                RuntimeSpecs.validate(after);
            } catch (IllegalArgumentException | IllegalStateException e) {
                throw refusal(e, "Cannot update container " + m.id() + ": " + e.getMessage());
            }
            if (m.stored.isUp() && !m.stored.state().restarting()) {
                runtimeOf(m).update(m.id(), RuntimeSpecs.resources(after));
            }
            m.stored = m.stored.withHostConfig(after);
            files.save(m.stored);
            publish("update", m.stored, Map.of());
            return m.stored.container();
        }
    }

    /** The same kind of exception with Docker's message. */
    private static RuntimeException refusal(RuntimeException e, String message) {
        return e instanceof IllegalStateException ? new IllegalStateException(message, e)
                : new IllegalArgumentException(message, e);
    }

    /** {@code host} with what {@code update} changes, checked as dockerd checks an update. */
    private static HostConfig updated(HostConfig h, ContainerUpdate update) {
        long memory = h.memory();
        long memorySwap = h.memorySwap();
        if (update.memory() != 0) {
            if (update.memorySwap() == 0 && memorySwap > 0 && update.memory() > memorySwap) {
                throw new IllegalStateException("Memory limit should be smaller than already set memoryswap limit,"
                        + " update the memoryswap at the same time");
            }
            memory = update.memory();
        }
        if (update.memorySwap() != 0) {
            memorySwap = update.memorySwap();
        }
        Long pidsLimit = update.pidsLimit() == null ? h.pidsLimit()
                : update.pidsLimit() <= 0 ? Long.valueOf(0) : update.pidsLimit();
        HostConfig.RestartPolicy restart = h.restartPolicy();
        if (update.restartPolicy() != null && update.restartPolicy().name() != null
                && !update.restartPolicy().name().isEmpty()) {
            if (!update.restartPolicy().name().equals("no") && h.autoRemove()) {
                throw new IllegalStateException(
                        "Restart policy cannot be updated because AutoRemove is enabled for the container");
            }
            RestartPolicies.validate(update.restartPolicy(), h.autoRemove());
            restart = update.restartPolicy();
        }
        return new HostConfig(h.binds(), h.networkMode(), h.portBindings(), restart, h.autoRemove(),
                h.mounts(), h.capAdd(), h.capDrop(), h.dns(), h.dnsOptions(), h.dnsSearch(), h.extraHosts(),
                h.privileged(), h.publishAllPorts(), h.readonlyRootfs(), h.securityOpt(), h.tmpfs(), h.shmSize(),
                h.sysctls(), memory, memorySwap, update.nanoCpus() != 0 ? update.nanoCpus() : h.nanoCpus(),
                update.cpuShares() != 0 ? update.cpuShares() : h.cpuShares(), pidsLimit, h.runtime(),
                h.usernsMode());
    }

    @Override
    public List<String> prune() throws IOException {
        List<String> removed = new ArrayList<>();
        for (Managed m : List.copyOf(containers.values())) {
            synchronized (m) {
                if (m.gone || m.stored.isUp()) {
                    continue;
                }
            }
            try {
                removeStopped(m, false);
                removed.add(m.id());
            } catch (IllegalStateException startedMeanwhile) {
                // started again while pruning: it stays
            }
        }
        return removed;
    }

    // ---------------------------------------------------------------- working with a running container

    @Override
    public LogReader logs(String nameOrId, LogOptions options) throws IOException {
        Managed m = find(nameOrId);
        return new K8sFileLogReader(files.logFile(m.id()), options, () -> {
            synchronized (m) {
                return !m.gone && m.stored.isUp();
            }
        });
    }

    @Override
    public Attachment attach(String nameOrId, String detachKeys) throws IOException {
        byte[] sequence = DetachKeys.parse(detachKeys);
        Managed m = find(nameOrId);
        Attachment attachment;
        synchronized (m) {
            if (!m.stored.isUp() || m.stored.state().restarting()) {
                throw new IllegalStateException("You cannot attach to a stopped container, start it first");
            }
            if (m.stored.state().paused()) {
                throw new IllegalStateException("You cannot attach to a paused container, unpause it first");
            }
            attachment = runtimeOf(m).attach(m.id());
            publish("attach", m.stored, Map.of());
        }
        StoredContainer stored = m.stored;
        return DetachKeys.watch(attachment, sequence, () -> publish("detach", stored, Map.of()));
    }

    @Override
    public ExecProcess exec(String nameOrId, ExecConfig exec) throws IOException {
        if (exec == null || exec.cmd() == null || exec.cmd().isEmpty()) {
            throw new IllegalArgumentException("No exec command specified");
        }
        Managed m = find(nameOrId);
        synchronized (m) {
            requireRunning(m);
            if (m.stored.state().paused()) {
                throw new IllegalStateException("Container " + m.id()
                        + " is paused, unpause the container before exec");
            }
            ContainerConfig config = m.stored.container().config();
            HostConfig host = m.stored.container().hostConfig();
            List<String> env = new ArrayList<>(config.env() == null ? List.of() : config.env());
            if (exec.env() != null) {
                env.addAll(exec.env());
            }
            RuntimeSpec spec = RuntimeSpecs.build(config, host, exec.cmd(), Path.of("/"), List.of(), null);
            RuntimeSpec.Process process = new RuntimeSpec.Process(List.copyOf(exec.cmd()), env,
                    exec.workingDir() == null || exec.workingDir().isEmpty() ? spec.process().cwd()
                            : exec.workingDir(),
                    exec.user() == null || exec.user().isEmpty() ? spec.process().user() : exec.user(),
                    exec.tty(), spec.process().noNewPrivileges(),
                    exec.privileged() ? List.of("ALL") : spec.process().capAdd(),
                    exec.privileged() ? List.of() : spec.process().capDrop());
            String command = String.join(" ", exec.cmd());
            publish("exec_create: " + command, m.stored, Map.of());
            ExecProcess started = runtimeOf(m).exec(m.id(), execSpec(process, exec));
            publish("exec_start: " + command, m.stored, Map.of());
            StoredContainer stored = m.stored;
            execWatchers.execute(() -> {
                try {
                    int exitCode = started.waitFor();
                    publish("exec_die", stored, Map.of("exitCode", String.valueOf(exitCode)));
                } catch (InterruptedException closing) {
                    Thread.currentThread().interrupt();
                }
            });
            return started;
        }
    }

    /** The runtime's exec spec: the process, its stdin and its terminal's size from {@code ConsoleSize}. */
    private static ExecSpec execSpec(RuntimeSpec.Process process, ExecConfig exec) {
        List<Integer> size = exec.consoleSize();
        boolean sized = size != null && size.size() == 2 && size.get(0) != null && size.get(1) != null
                && size.get(0) > 0 && size.get(1) > 0;
        return sized ? new ExecSpec(process, exec.attachStdin(), size.get(0), size.get(1))
                : new ExecSpec(process, exec.attachStdin());
    }

    @Override
    public Top top(String nameOrId, String psArgs) throws IOException {
        Managed m = find(nameOrId);
        List<Long> pids;
        synchronized (m) {
            requireRunning(m);
            pids = runtimeOf(m).processes(m.id());
        }
        return ProcessTable.top(pids, psArgs);
    }

    @Override
    public ResourceUsage stats(String nameOrId) throws IOException {
        Managed m = find(nameOrId);
        synchronized (m) {
            requireRunning(m);
            return runtimeOf(m).usage(m.id());
        }
    }

    @Override
    public List<Change> changes(String nameOrId) throws IOException {
        return layers.changes(find(nameOrId).id());
    }

    @Override
    public void export(String nameOrId, OutputStream out) throws IOException {
        withRootfs(find(nameOrId), files -> {
            files.export(out);
            return null;
        });
    }

    @Override
    public PathStat stat(String nameOrId, String path) throws IOException {
        return withRootfs(find(nameOrId), files -> files.stat(path));
    }

    @Override
    public PathStat copyFrom(String nameOrId, String path, OutputStream tar) throws IOException {
        return withRootfs(find(nameOrId), files -> files.copyFrom(path, tar));
    }

    @Override
    public void copyTo(String nameOrId, String path, InputStream tar, boolean noOverwriteDirNonDir)
            throws IOException {
        withRootfs(find(nameOrId), files -> {
            files.copyTo(path, tar, noOverwriteDirNonDir);
            return null;
        });
    }

    @Override
    public Image commit(String nameOrId, CommitRequest request) throws IOException {
        Managed m = find(nameOrId);
        Container c;
        boolean paused = false;
        synchronized (m) {
            c = m.stored.container();
            if (request.pause() && m.stored.isUp() && !c.state().paused()) {
                runtimeOf(m).pause(m.id()); // a consistent layer, as Docker takes it
                paused = true;
            }
        }
        try (InputStream diff = layers.diff(m.id())) {
            Image image = images.commit(c.image(), diff, c.config(), request, c.id(), String.join(" ", c.commandLine()));
            publish("commit", m.stored, Map.of());
            return image;
        } finally {
            if (paused) {
                synchronized (m) {
                    runtimeOf(m).resume(m.id());
                }
            }
        }
    }

    /** daemon.json's {@code userns-remap} as new containers get it. */
    interface UserNamespaces {
        /**
         * The map, or null for no user namespace.
         *
         * @throws IllegalArgumentException if the setting cannot be used (said when a container is created)
         */
        IdMap idMap() throws IOException;
    }

    /** Work on a container's files; its read-write layer is mounted for it (again, if it runs). */
    private interface FilesWork<T> {
        T apply(ContainerFiles files) throws IOException;
    }

    private <T> T withRootfs(Managed m, FilesWork<T> work) throws IOException {
        StoredContainer stored;
        synchronized (m) {
            stored = m.stored;
        }
        Container c = stored.container();
        Path rootfs = layers.mountReadWrite(m.id());
        try {
            return work.apply(new ContainerFiles(rootfs, c.mounts(), c.hostConfig().readonlyRootfs(),
                    Files.createDirectories(scratch), stored.idMap()));
        } finally {
            layers.unmountReadWrite(m.id());
        }
    }

    private static HostConfig withRuntime(HostConfig h, String runtime) {
        return new HostConfig(h.binds(), h.networkMode(), h.portBindings(), h.restartPolicy(), h.autoRemove(),
                h.mounts(), h.capAdd(), h.capDrop(), h.dns(), h.dnsOptions(), h.dnsSearch(), h.extraHosts(),
                h.privileged(), h.publishAllPorts(), h.readonlyRootfs(), h.securityOpt(), h.tmpfs(), h.shmSize(),
                h.sysctls(), h.memory(), h.memorySwap(), h.nanoCpus(), h.cpuShares(), h.pidsLimit(), runtime,
                h.usernsMode());
    }

    // ---------------------------------------------------------------- volumes

    /** The containers that use a volume, for the volume store's in-use checks. */
    List<String> containersUsing(String volume) {
        List<String> ids = new ArrayList<>();
        for (Managed m : containers.values()) {
            if (!m.gone && m.stored.volumes().contains(volume)) {
                ids.add(m.id());
            }
        }
        return ids;
    }

    /**
     * The user namespace a new container gets: the daemon's ({@code userns-remap}) unless it asks for the host's
     * ({@code --userns=host}). Docker's refusals of what a user namespace cannot do come here too.
     */
    private IdMap userNamespaceOf(HostConfig host) throws IOException {
        String mode = host.usernsMode() == null ? "" : host.usernsMode();
        if (!mode.isEmpty() && !mode.equals("host")) {
            throw new IllegalArgumentException("invalid USER mode \"" + mode + "\": it can be empty or host");
        }
        IdMap idMap = mode.equals("host") ? null : userNamespaces.idMap();
        if (idMap != null && host.privileged()) {
            throw new IllegalArgumentException("privileged mode is incompatible with user namespaces. You must run"
                    + " the container in the host namespace (--userns=host) when running privileged mode");
        }
        if (idMap != null && "host".equals(host.networkMode())) {
            throw new IllegalArgumentException("cannot share the host's network namespace when user namespaces are"
                    + " enabled (use --userns=host)");
        }
        return idMap;
    }

    /** Plans (and creates) the container's volumes and mounts; new empty volumes get the image's content. */
    private MountPlanner.Plan planMounts(String id, HostConfig host, ContainerConfig config, IdMap idMap)
            throws IOException {
        Set<String> imageVolumes = config.volumes() == null ? Set.of() : config.volumes().keySet();
        boolean nothingAsked = isEmpty(host.binds()) && isEmpty(host.mounts())
                && (host.tmpfs() == null || host.tmpfs().isEmpty()) && imageVolumes.isEmpty();
        if (nothingAsked) {
            return planner.plan(host, imageVolumes, null, idMap); // no volume to fill: no rootfs mount needed
        }
        Path rootfs = layers.mountReadWrite(id);
        try {
            return planner.plan(host, imageVolumes, rootfs, idMap);
        } finally {
            layers.unmountReadWrite(id);
        }
    }

    private static boolean isEmpty(List<?> list) {
        return list == null || list.isEmpty();
    }

    private void undoQuietly(MountPlanner.Plan plan) {
        try {
            planner.undo(plan);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot remove the volumes of a container that was not created: " + e);
        }
    }

    /** {@code rm -v} and {@code --rm}: the anonymous volumes no other container uses go with the container. */
    private void removeAnonymousVolumes(StoredContainer stored) {
        for (String volume : stored.volumes()) {
            try {
                if (volumes.isAnonymous(volume) && containersUsing(volume).isEmpty()) {
                    volumes.remove(volume, true);
                }
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot remove volume " + volume + " of container "
                        + stored.id() + ": " + e);
            }
        }
    }

    // ---------------------------------------------------------------- ImageUsers

    @Override
    public List<User> usersOf(String imageId) {
        List<User> users = new ArrayList<>();
        for (Managed m : containers.values()) {
            synchronized (m) {
                if (!m.gone && m.stored.container().image().equals(imageId)) {
                    users.add(new User(m.id(), m.stored.isUp()));
                }
            }
        }
        return users;
    }

    // ---------------------------------------------------------------- internals

    /** Creates and starts the runtime container; the caller holds the lock. */
    /** Starts it; with {@code attach}, returns an attachment made between the runtime's create and start. */
    private Attachment startLocked(Managed m, boolean attach) throws IOException {
        StoredContainer stored = m.stored;
        ContainerNetworks.Joined network = null;
        Attachment attachment = null;
        String id = stored.id();
        ContainerRuntime runtime = runtimeOf(m);
        runtime.delete(id, true); // what an earlier run left with the runtime
        Path rootfs = layers.mountReadWrite(id);
        try {
            Container c = stored.container();
            List<String> command = c.commandLine();
            for (String volume : stored.volumes()) {
                volumes.mount(volume); // a tmpfs or bind volume is mounted while a container may use it
            }
            network = networks == null ? null : networks.join(c, pidOfNetworkPeer(c));
            RuntimeSpec spec = RuntimeSpecs.build(c.config(), c.hostConfig(), command, rootfs, stored.mounts(),
                    stored.idMap(), network);
            runtime.create(id, spec, new ContainerIo(files.logFile(id), 0, c.config().openStdin(),
                    c.config().stdinOnce()));
            try {
                attachment = attach ? runtime.attach(id) : null;
                runtime.start(id);
            } catch (IOException | RuntimeException e) {
                if (attachment != null) {
                    attachment.close();
                }
                deleteQuietly(runtime, id);
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            leaveNetworksQuietly(stored);
            unmountQuietly(id);
            m.stored = stored.withState(States.failedToStart(stored.state(), exitCodeOf(e), e.getMessage()));
            saveQuietly(m);
            throw e;
        }
        Instant now = Instant.now();
        long pid = runtime.state(id).pid();
        m.stored = stored.withState(States.running(stored.state(), pid, now))
                .withNetworkSettings(network == null ? Container.NetworkSettings.NONE : network.settings());
        files.save(m.stored);
        watchExit(m, runtime);
        publish("start", m.stored, Map.of());
        refreshHostsLater(m.stored.container());
        return attachment;
    }

    /** The pid of the container a {@code container:NAME} network mode names, or 0 for another mode. */
    private long pidOfNetworkPeer(Container c) {
        String mode = c.hostConfig().networkMode();
        if (mode == null || !mode.startsWith("container:")) {
            return 0;
        }
        Managed peer = find(mode.substring("container:".length()));
        synchronized (peer) {
            return peer.stored.isUp() ? peer.stored.state().pid() : 0;
        }
    }

    /**
     * Rewrites, on the scheduler's thread (one container lock at a time), the /etc/hosts of every running container
     * on a user network {@code c} is on (or was on, for an exit), so that names resolve whoever started first.
     */
    private void refreshHostsLater(Container c) {
        java.util.Set<String> changed = ContainerNetworks.userNetworks(c).keySet();
        if (networks == null || changed.isEmpty() || closed) {
            return;
        }
        scheduler.execute(() -> {
            for (Managed peer : containers.values()) {
                synchronized (peer) {
                    Container p = peer.stored.container();
                    Map<String, String> on = ContainerNetworks.userNetworks(p);
                    if (!peer.stored.isUp() || on.keySet().stream().noneMatch(changed::contains)) {
                        continue;
                    }
                    try {
                        List<String> hosts = new ArrayList<>();
                        for (Map.Entry<String, String> network : on.entrySet()) {
                            hosts.addAll(networks.hostsOnNetwork(network.getKey(), network.getValue(),
                                    p.config().hostname()));
                        }
                        for (String extra : p.hostConfig().extraHosts() == null ? List.<String>of()
                                : p.hostConfig().extraHosts()) {
                            hosts.add(RuntimeSpecs.hostsLine(extra));
                        }
                        runtimeOf(peer).updateHosts(peer.id(), hosts.stream().distinct().toList());
                    } catch (IOException | RuntimeException e) {
                        LOG.log(System.Logger.Level.WARNING, "cannot update /etc/hosts of " + peer.id() + ": " + e);
                    }
                }
            }
        });
    }

    @Override
    public void connect(String nameOrId, String network, List<String> aliases) throws IOException {
        if (networks == null) {
            throw new UnsupportedOperationException("this container service has no networks");
        }
        Managed m = find(nameOrId);
        synchronized (m) {
            // a stopped container joins it at its next start, as with dockerd
            Container.NetworkSettings settings = m.stored.isUp()
                    ? networks.connect(m.stored.container(), m.stored.state().pid(), network, aliases)
                    : networks.connectAtStart(m.stored.container(), network, aliases);
            m.stored = m.stored.withNetworkSettings(settings);
            files.save(m.stored);
            publish("connect", m.stored, Map.of("network", network));
            refreshHostsLater(m.stored.container());
        }
    }

    @Override
    public void disconnect(String nameOrId, String network) throws IOException {
        if (networks == null) {
            throw new UnsupportedOperationException("this container service has no networks");
        }
        Managed m = find(nameOrId);
        synchronized (m) {
            Container before = m.stored.container();
            m.stored = m.stored.withNetworkSettings(m.stored.isUp() ? networks.disconnect(before, network)
                    : networks.disconnectAtStart(before, network));
            files.save(m.stored);
            publish("disconnect", m.stored, Map.of("network", network));
            refreshHostsLater(before);
        }
    }

    private void leaveNetworksQuietly(StoredContainer stored) {
        if (networks == null) {
            return;
        }
        try {
            networks.leave(stored.container());
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot take container " + stored.id() + " off its networks: " + e);
        }
    }

    /** Docker's exit codes for a command that cannot run: 127 not found, 126 not executable. */
    private static int exitCodeOf(Exception e) {
        String message = String.valueOf(e.getMessage()).toLowerCase();
        if (message.contains("no such file") || message.contains("not found")) {
            return 127;
        }
        if (message.contains("permission denied")) {
            return 126;
        }
        return 128;
    }

    private void watchExit(Managed m, ContainerRuntime runtime) throws IOException {
        long token = ++m.watch;
        m.watchedBy = runtime;
        runtime.exit(m.id()).whenCompleteAsync((state, failure) -> onExit(m, token, state, failure), scheduler);
    }

    private void onExit(Managed m, long token, ContainerState state, Throwable failure) {
        if (closed) {
            return; // the next instance re-adopts it
        }
        synchronized (m) {
            if (m.watch != token || m.gone || !m.stored.isUp()) {
                return;
            }
            if (failure != null) {
                LOG.log(System.Logger.Level.WARNING, "lost the exit of container " + m.id() + ": " + failure);
                m.watchedBy = null;
                return;
            }
            finishRun(m, state.exitCode() < 0 ? 255 : state.exitCode(), state.oomKilled(),
                    state.finishedAt() == null ? Instant.now() : state.finishedAt(), "");
        }
    }

    /** Records an exit, cleans up after the run, and applies the restart policy or {@code --rm}. */
    private void finishRun(Managed m, int exitCode, boolean oomKilled, Instant finishedAt, String error) {
        StoredContainer stored = m.stored;
        String id = stored.id();
        m.watch++;
        m.watchedBy = null;
        ContainerRuntime runtime = runtimes.byName(stored.runtime());
        if (runtime != null) {
            deleteQuietly(runtime, id);
        }
        leaveNetworksQuietly(stored);
        unmountQuietly(id);
        m.stored = stored.withState(States.exited(stored.state(), exitCode, oomKilled, finishedAt, error))
                .withNetworkSettings(stored.container().networkSettings() == null ? Container.NetworkSettings.NONE
                        : stored.container().networkSettings().declared());
        saveQuietly(m);
        publish("die", m.stored, Map.of("exitCode", String.valueOf(exitCode)));
        refreshHostsLater(stored.container());
        CompletableFuture<Integer> exited = m.nextExit;
        m.nextExit = new CompletableFuture<>();
        exited.complete(exitCode);

        HostConfig host = stored.container().hostConfig();
        Instant startedAt = Timestamps.parse(stored.state().startedAt());
        Duration ran = startedAt == null ? Duration.ZERO : Duration.between(startedAt, finishedAt);
        if (!m.stored.stoppedByUser() && !closed
                && RestartPolicies.shouldRestart(host.restartPolicy(), exitCode, stored.container().restartCount())) {
            m.backoff = RestartPolicies.nextDelay(m.backoff, ran);
            m.stored = m.stored.withState(States.restarting(m.stored.state()));
            saveQuietly(m);
            m.pendingRestart = scheduler.schedule(() -> restartByPolicy(m), m.backoff.toMillis(),
                    TimeUnit.MILLISECONDS);
        } else if (host.autoRemove() && !closed) {
            scheduler.execute(() -> {
                try {
                    removeStopped(m, true); // --rm takes the anonymous volumes along, as Docker's does
                } catch (IOException | RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "cannot remove container " + id + " (--rm): " + e, e);
                }
            });
        }
    }

    private void restartByPolicy(Managed m) {
        synchronized (m) {
            if (m.gone || m.pendingRestart == null || closed) {
                return;
            }
            m.pendingRestart = null;
            if (m.stored.stoppedByUser() || !m.stored.state().restarting()) {
                return;
            }
            m.stored = m.stored.withRestartCount(m.stored.container().restartCount() + 1);
            try {
                startLocked(m, false);
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "restart policy: cannot start " + m.id() + ": " + e, e);
            }
        }
    }

    /** Cancels a restart waiting for its back-off; true if there was one. The caller holds the lock. */
    private boolean cancelRestart(Managed m) {
        if (m.pendingRestart == null && !m.stored.state().restarting()) {
            return false;
        }
        if (m.pendingRestart != null) {
            m.pendingRestart.cancel(false);
            m.pendingRestart = null;
        }
        return true;
    }

    /** Re-adopts a container recorded as up: watches its exit again, or records the exit that happened. */
    private void adopt(Managed m) {
        synchronized (m) {
            if (m.gone || !m.stored.isUp() || closed) {
                return;
            }
            ContainerRuntime runtime = runtimes.byName(m.stored.runtime());
            if (runtime == null || runtime == m.watchedBy) {
                return; // adopted when its runtime comes back, or already adopted
            }
            String id = m.id();
            if (m.stored.state().restarting()) {
                if (m.pendingRestart == null) {
                    m.pendingRestart = scheduler.schedule(() -> restartByPolicy(m), 0, TimeUnit.MILLISECONDS);
                }
                return;
            }
            try {
                ContainerState state = runtime.state(id);
                if (state.status() == ContainerState.Status.RUNNING
                        || state.status() == ContainerState.Status.PAUSED) {
                    Container.State recorded = States.paused(m.stored.state(),
                            state.status() == ContainerState.Status.PAUSED);
                    m.stored = m.stored.withState(States.withPid(recorded, state.pid()));
                    saveQuietly(m);
                }
                watchExit(m, runtime); // completes at once if it exited while nobody watched
            } catch (NoSuchElementException unknown) {
                finishRun(m, 255, false, Instant.now(), "the runtime " + m.stored.runtime()
                        + " no longer knows this container");
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot re-adopt container " + id + ": " + e, e);
            }
        }
    }

    /** Removes a container that is not running: runtime leftovers, read-write layer, record. */
    private void removeStopped(Managed m, boolean anonymousVolumes) throws IOException {
        synchronized (m) {
            if (m.gone) {
                return;
            }
            if (m.stored.isUp() && !m.stored.state().restarting()) {
                throw new IllegalStateException("conflict: You cannot remove a running container " + m.id()
                        + ". Stop the container before attempting removal or force remove");
            }
            cancelRestart(m);
            String id = m.id();
            ContainerRuntime runtime = runtimes.byName(m.stored.runtime());
            if (runtime != null) {
                runtime.delete(id, true);
            }
            try {
                layers.removeReadWrite(id);
            } catch (NoSuchElementException alreadyGone) {
                // a remove that failed after this step, or a layer the store lost: nothing left to remove
            }
            m.gone = true;
            files.delete(id);
            containers.remove(id);
            if (anonymousVolumes) {
                removeAnonymousVolumes(m.stored);
            }
            publish("destroy", m.stored, Map.of());
            m.removed.complete(m.stored.state().exitCode());
        }
    }

    private void removeUnfinishedLayer(String id) {
        removeLayerQuietly(id);
    }

    private void removeLayerQuietly(String id) {
        try {
            layers.removeReadWrite(id);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "no read-write layer to remove for " + id + ": " + e);
        }
    }

    private void unmountQuietly(String id) {
        try {
            layers.unmountReadWrite(id);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot unmount the read-write layer of " + id + ": " + e, e);
        }
    }

    private static void deleteQuietly(ContainerRuntime runtime, String id) {
        try {
            runtime.delete(id, false);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "runtime cannot delete container " + id + ": " + e, e);
        }
    }

    private void saveQuietly(Managed m) {
        try {
            files.save(m.stored);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, "cannot write the state of container " + m.id() + ": " + e, e);
        }
    }

    /** Sends a signal; a paused container is thawed for the signals that end it. The caller holds the lock. */
    private void signal(Managed m, ContainerRuntime runtime, int number) throws IOException {
        runtime.kill(m.id(), number);
        publish("kill", m.stored, Map.of("signal", String.valueOf(number)));
        if (m.stored.state().paused() && (number == Signals.SIGKILL || number == stopSignal(m.stored))) {
            runtime.resume(m.id());
            m.stored = m.stored.withState(States.paused(m.stored.state(), false));
            saveQuietly(m);
        }
    }

    /** As {@link #signal}, but a container that exits while the signal is on its way is no error. */
    private void signalRace(Managed m, ContainerRuntime runtime, int number, CompletableFuture<Integer> exited)
            throws IOException {
        try {
            signal(m, runtime, number);
        } catch (IOException e) {
            if (!exited.isDone() && m.stored.isUp()) {
                ContainerState state = runtime.state(m.id());
                if (state.status() != ContainerState.Status.STOPPED) {
                    throw e;
                }
            }
        }
    }

    /** Waits for an exit future up to {@code seconds} (-1: forever); false on timeout. */
    private static boolean awaitExit(CompletableFuture<Integer> exited, int seconds) throws IOException {
        try {
            if (seconds < 0) {
                exited.get();
            } else {
                exited.get(seconds, TimeUnit.SECONDS);
            }
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the container to stop", e);
        } catch (ExecutionException e) {
            throw new IOException("waiting for the container to stop failed: " + e.getCause(), e.getCause());
        }
    }

    /** Waits for the exit that a SIGKILL causes; one that does not come is the host's failure, not a hang. */
    private static void awaitKilled(Managed m, CompletableFuture<Integer> exited) throws IOException {
        if (!awaitExit(exited, KILL_PATIENCE_SECONDS)) {
            throw new IOException("container " + m.id() + " did not exit within " + KILL_PATIENCE_SECONDS
                    + " s of SIGKILL");
        }
    }

    private static int stopSignal(StoredContainer stored) {
        String signal = stored.container().config().stopSignal();
        return signal == null || signal.isEmpty() ? Signals.SIGTERM : Signals.parse(signal);
    }

    private ContainerRuntime runtimeOf(Managed m) throws IOException {
        ContainerRuntime runtime = runtimes.byName(m.stored.runtime());
        if (runtime == null) {
            throw new IOException("the container runtime " + m.stored.runtime() + " of container " + m.id()
                    + " is not available");
        }
        return runtime;
    }

    private static void requireRunning(Managed m) {
        if (!m.stored.isUp() || m.stored.state().restarting()) {
            throw new IllegalStateException("Container " + m.id() + " is not running");
        }
    }

    /** A container by full id, name (with or without the slash) or unambiguous id prefix. */
    private Managed find(String nameOrId) {
        if (nameOrId == null || nameOrId.isEmpty()) {
            throw new NoSuchElementException("No such container: " + nameOrId);
        }
        Managed byId = containers.get(nameOrId);
        if (byId != null && !byId.gone) {
            return byId;
        }
        String name = nameOrId.startsWith("/") ? nameOrId : "/" + nameOrId;
        List<Managed> byPrefix = new ArrayList<>();
        for (Managed m : containers.values()) {
            synchronized (m) {
                if (m.gone) {
                    continue;
                }
                if (m.stored.container().name().equals(name)) {
                    return m;
                }
                if (m.id().startsWith(nameOrId)) {
                    byPrefix.add(m);
                }
            }
        }
        if (byPrefix.size() == 1) {
            return byPrefix.get(0);
        }
        if (byPrefix.size() > 1) {
            throw new IllegalArgumentException("multiple IDs found with provided prefix: " + nameOrId);
        }
        throw new NoSuchElementException("No such container: " + nameOrId);
    }

    /**
     * Reserves a name for a container being created or renamed (a generated one for null): refuses one in use
     * with Docker's conflict message. The caller releases it from {@link #reservedNames} when done.
     */
    private String reserveName(String wanted) {
        synchronized (reservedNames) {
            Map<String, String> inUse = new HashMap<>();
            for (Managed m : containers.values()) {
                synchronized (m) {
                    if (!m.gone) {
                        inUse.put(m.stored.container().shortName(), m.id());
                    }
                }
            }
            String name = wanted != null ? wanted
                    : names.generate(candidate -> inUse.containsKey(candidate) || reservedNames.contains(candidate));
            if (inUse.containsKey(name) || reservedNames.contains(name)) {
                String holder = inUse.getOrDefault(name, "(being created)");
                throw new IllegalStateException("Conflict. The container name \"/" + name
                        + "\" is already in use by container \"" + holder
                        + "\". You have to remove (or rename) that container to be able to reuse that name.");
            }
            reservedNames.add(name);
            return name;
        }
    }

    private void publish(String action, StoredContainer stored, Map<String, String> extra) {
        Events log = events.get();
        if (log == null) {
            return;
        }
        Map<String, String> attributes = new HashMap<>();
        Container c = stored.container();
        attributes.put("name", c.shortName());
        attributes.put("image", c.config().image() == null ? c.image() : c.config().image());
        if (c.config().labels() != null) {
            attributes.putAll(c.config().labels());
        }
        attributes.putAll(extra);
        try {
            log.publish(Event.now("container", action, c.id(), attributes));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot publish event " + action + ": " + e, e);
        }
    }

    private static ContainerConfig withHostname(ContainerConfig c, String shortId) {
        String hostname = c.hostname() == null || c.hostname().isEmpty() ? shortId : c.hostname();
        return new ContainerConfig(hostname, c.domainname(), c.user(), c.attachStdin(), c.attachStdout(),
                c.attachStderr(), c.exposedPorts(), c.tty(), c.openStdin(), c.stdinOnce(), c.env(), c.cmd(),
                c.image(), c.volumes(), c.workingDir(), c.entrypoint(), c.labels(), c.stopSignal(), c.stopTimeout());
    }

    static HostConfig defaultHostConfig() {
        return new HostConfig(null, "default", null, new HostConfig.RestartPolicy("no", 0), false, null, null,
                null, null, null, null, null, false, false, false, null, null, 0, null, 0, 0, 0, 0, null, null);
    }

    private static byte[] randomBytes(int count) {
        byte[] bytes = new byte[count];
        RANDOM.nextBytes(bytes);
        return bytes;
    }
}
