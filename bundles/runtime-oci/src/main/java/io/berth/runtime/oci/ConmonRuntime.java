package io.berth.runtime.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.spi.driver.DriverStatus;
import io.berth.spi.runtime.Attachment;
import io.berth.spi.runtime.ContainerIo;
import io.berth.spi.runtime.ContainerRuntime;
import io.berth.spi.runtime.ContainerState;
import io.berth.spi.runtime.ExecProcess;
import io.berth.spi.runtime.ExecSpec;
import io.berth.spi.runtime.ResourceUsage;
import io.berth.spi.runtime.RuntimeSpec;
import io.berth.storage.support.Commands;
import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A {@link ContainerRuntime} that has an OCI runtime binary (runc, crun) create each container under its own
 * conmon, which outlives this JVM, writes the log and the exit code and serves the attach socket.
 *
 * <p>On disk, per container {@code ID}: {@code <stateRoot>/ID/} holds the bundle ({@code config.json}), the
 * generated {@code etc/} files, the pid files, conmon's persist files ({@code exit}, {@code oom}) and its
 * {@code attach} socket and {@code ctl} fifo; {@code <stateRoot>/exits/ID} is conmon's exit file. Under
 * {@code runRoot}: {@code root/} is the runtime's own state ({@code --root}) and {@code sock/ID} is conmon's link to
 * the bundle that keeps the attach socket's path below the 108-byte limit of unix socket addresses (under
 * {@link #SHORT_SOCKET_ROOT} when {@code runRoot} is too deep for that).
 */
public final class ConmonRuntime implements ContainerRuntime, Closeable {

    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);
    /** How long conmon may take to report the created container; a hung runtime is killed after it. */
    static final Duration CREATE_TIMEOUT = Duration.ofSeconds(30);
    /** How long a forced delete waits for the killed container's exit file. */
    static final Duration KILL_TIMEOUT = Duration.ofSeconds(30);

    /** Container ids: Docker's 64 hex digits, or names of the same length at most. */
    private static final Pattern VALID_ID = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}");
    /** Where the attach socket links go when the run root is too deep for them. */
    /** Where a container in a user namespace sees its root filesystem bound, in its state directory. */
    private static final String BOUND_ROOTFS = "rootfs";
    static final Path SHORT_SOCKET_ROOT = Path.of("/run/berth-sockets");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String name;
    private final Path runtime;
    private final Path createRuntime;
    private final Path conmon;
    private final Path stateRoot;
    private final Path runRoot;
    private final Path socketDir;
    private final OciSpecWriter specWriter;
    private final ExitWatcher exits;

    /**
     * @param name          the driver name ({@code runc}, {@code crun})
     * @param runtime       the runtime binary
     * @param createRuntime what conmon runs to create containers: the runtime itself, or a wrapper around it
     * @param conmon        the conmon binary
     * @param stateRoot     this driver's directory under the data-root
     * @param runRoot       a short directory for the runtime's state and the attach socket links
     */
    ConmonRuntime(String name, Path runtime, Path createRuntime, Path conmon, Path stateRoot, Path runRoot,
            OciSpecWriter specWriter) throws IOException {
        this.name = name;
        this.runtime = runtime;
        this.createRuntime = createRuntime;
        this.conmon = conmon;
        this.stateRoot = Files.createDirectories(stateRoot);
        this.runRoot = Files.createDirectories(runRoot);
        this.specWriter = specWriter;
        this.socketDir = Files.createDirectories(socketDirFor(runRoot));
        Files.createDirectories(runtimeRoot());
        this.exits = new ExitWatcher(stateRoot.resolve("exits"));
    }

    public String name() {
        return name;
    }

    Path stateRoot() {
        return stateRoot;
    }

    @Override
    public DriverStatus status() {
        if (!Files.isExecutable(runtime)) {
            return DriverStatus.unsupported(name + " is not installed (" + runtime + " is not an executable)");
        }
        if (!Files.isExecutable(conmon)) {
            return DriverStatus.unsupported("conmon is not installed (" + conmon + " is not an executable)");
        }
        return DriverStatus.active(Map.of("Runtime", runtime.toString(), "Conmon", conmon.toString(),
                "State", stateRoot.toString(), "Cgroups", CgroupLayout.detect().name().toLowerCase()));
    }

    // ---- running a container -------------------------------------------------------------------------------

    @Override
    public void create(String id, RuntimeSpec spec, ContainerIo io) throws IOException {
        checkId(id);
        Path dir = containerDir(id);
        try {
            Files.createDirectory(dir);
        } catch (FileAlreadyExistsException e) {
            throw new IllegalArgumentException("container " + id + " already exists");
        }
        try {
            RuntimeSpec run = spec.userNamespace() == null ? spec : reachableByMappedRoot(dir, spec);
            OciSpecWriter.writeEtcFiles(run, dir.resolve("etc"));
            ObjectNode config = specWriter.configFor(id, run, dir.resolve("etc"));
            Files.write(dir.resolve("config.json"), JSON.writeValueAsBytes(config));
            Files.createDirectories(dir.resolve("persist"));
            Files.createDirectories(io.logFile().toAbsolutePath().getParent());
            long pid = startConmon(id, dir, spec.process().terminal(), io);
            if (pid <= 0) {
                throw new IOException(name + " could not create container " + id);
            }
        } catch (IOException | RuntimeException | Error e) {
            try {
                removeEverything(id);
            } catch (IOException | RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /**
     * The runtime sets up a container in a user namespace as its mapped root, which must reach the root filesystem
     * and the {@code /etc} files. The storage drivers keep their layer directories closed to everyone but the
     * host's root (so that host users cannot run a container's setuid files, CVE-2021-41091), so the rootfs is
     * bound at {@code DIR/rootfs}, and {@code DIR} is opened to the mapped root's group only (0710), as dockerd
     * does for its remapped root.
     */
    private static RuntimeSpec reachableByMappedRoot(Path dir, RuntimeSpec spec) throws IOException {
        Files.setAttribute(dir, "unix:gid", spec.userNamespace().hostGid(0));
        Files.setAttribute(dir, "unix:mode", 0710);
        Path rootfs = Files.createDirectory(dir.resolve(BOUND_ROOTFS));
        Commands.check(List.of("mount", "--bind", spec.rootfs().toString(), rootfs.toString()), null, COMMAND_TIMEOUT);
        return spec.withRootfs(rootfs);
    }

    /** Unbinds {@code DIR/rootfs}; the state directory is removed only when nothing is mounted there. */
    private static void unbindRootfs(Path dir) throws IOException {
        Path rootfs = dir.resolve(BOUND_ROOTFS);
        if (!Files.isDirectory(rootfs, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Commands.Result result = Commands.run(List.of("umount", rootfs.toString()), null, COMMAND_TIMEOUT);
        if (result.exitCode() != 0 && !result.message().contains("not mounted")) {
            throw new IOException("cannot unmount " + rootfs + ": " + result.message());
        }
        Files.delete(rootfs); // fails, leaving the state, if anything is still mounted or left there
    }

    /** Starts conmon, which has the runtime create the container, and returns the container's pid. */
    private long startConmon(String id, Path dir, boolean terminal, ContainerIo io) throws IOException {
        List<String> command = new ArrayList<>(List.of("/bin/sh", "-c",
                // conmon reports on fd 3: make it this shell's stdout pipe, and keep the shell alive until its stdin
                // closes, because the JDK closes a child's pipes when the child exits and conmon's first process
                // exits before the monitor it forks has reported
                "\"$@\" 3>&1 1>/dev/null 0</dev/null; read ignored", "sh",
                conmon.toString(), "--api-version", "1", "-c", id, "-u", id, "-n", id,
                "-r", createRuntime.toString(), "--runtime-arg", "--root", "--runtime-arg", runtimeRoot().toString(),
                "-b", dir.toString(), "-p", dir.resolve("pidfile").toString(),
                "-P", dir.resolve("conmon.pid").toString(), "--exit-dir", exitDir().toString(),
                "--persist-dir", dir.resolve("persist").toString(), "--socket-dir-path", socketDir().toString(),
                "-l", "k8s-file:" + io.logFile().toAbsolutePath()));
        if (io.logSizeMax() > 0) {
            command.addAll(List.of("--log-size-max", Long.toString(io.logSizeMax())));
        }
        if (terminal) {
            command.add("-t");
        }
        if (io.openStdin()) {
            command.add("-i");
            if (!io.stdinOnce()) {
                command.add("--leave-stdin-open"); // conmon would close it when the first attached client goes
            }
        }
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectError(dir.resolve("conmon.log").toFile())
                .directory(dir.toFile());
        builder.environment().put("_OCI_SYNCPIPE", "3");
        Process launcher = builder.start();
        try {
            return readSync(id, dir, launcher);
        } finally {
            launcher.getOutputStream().close(); // lets the shell end
        }
    }

    /** Reads conmon's one line: {@code {"data": PID}} or {@code {"data": -1, "message": "..."}}. */
    private long readSync(String id, Path dir, Process launcher) throws IOException {
        // a thread of its own, not a shared pool: creates run in parallel and each read may block until the timeout
        CompletableFuture<String> line = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(launcher.getInputStream(), StandardCharsets.UTF_8))) {
                line.complete(in.readLine());
            } catch (IOException e) {
                line.complete(null);
            }
        }, "berth-conmon-sync " + id);
        reader.setDaemon(true);
        reader.start();
        String answer;
        try {
            answer = line.get(CREATE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            launcher.destroyForcibly();
            throw new IOException(name + " did not create container " + id + " within "
                    + CREATE_TIMEOUT.toSeconds() + "s" + conmonSaid(dir));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while creating container " + id, e);
        } catch (ExecutionException e) {
            throw new IOException("cannot read conmon's answer for container " + id, e.getCause());
        }
        if (answer == null) {
            throw new IOException("conmon ended without creating container " + id + conmonSaid(dir));
        }
        JsonNode json = JSON.readTree(answer);
        long pid = json.path("data").asLong(-1);
        if (pid <= 0) {
            String message = json.path("message").asText("").trim();
            throw new IOException(name + " could not create container " + id + ": "
                    + (message.isEmpty() ? answer : message));
        }
        return pid;
    }

    private static String conmonSaid(Path dir) {
        try {
            String text = Files.readString(dir.resolve("conmon.log")).trim();
            return text.isEmpty() ? "" : ": " + text;
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void start(String id) throws IOException {
        requireKnown(id);
        runtime("start", id);
    }

    @Override
    public void kill(String id, int signal) throws IOException {
        requireKnown(id);
        runtime("kill", id, Integer.toString(signal));
    }

    @Override
    public void pause(String id) throws IOException {
        requireKnown(id);
        runtime("pause", id);
    }

    @Override
    public void resume(String id) throws IOException {
        requireKnown(id);
        runtime("resume", id);
    }

    /**
     * {@code RUNTIME update --resources FILE}: the limits as config.json has them. A pids limit of 0 (none) is
     * written to the cgroup here: both runtimes read 0 as "unchanged", and crun 1.8 refuses runc's -1.
     */
    @Override
    public void update(String id, RuntimeSpec.Resources resources) throws IOException {
        requireKnown(id);
        Path file = Files.createTempFile(containerDir(id), "update-", ".json");
        try {
            JSON.writeValue(file.toFile(), specWriter.limits(resources));
            runtime("update", "--resources", file.toString(), id);
        } finally {
            Files.deleteIfExists(file);
        }
        if (resources.pidsLimit() == 0) {
            Cgroups.unlimitPids(CgroupLayout.pathOf(id));
        }
    }

    @Override
    public void delete(String id, boolean force) throws IOException {
        checkId(id);
        if (!Files.isDirectory(containerDir(id))) {
            return;
        }
        ContainerState state = state(id);
        if (state.status() != ContainerState.Status.STOPPED && state.status() != ContainerState.Status.CREATED) {
            if (!force) {
                throw new IOException("cannot delete container " + id + ": it is " + state.status().name()
                        .toLowerCase() + "; stop it first or force the removal");
            }
            if (state.status() == ContainerState.Status.PAUSED) {
                runtime("resume", id);
            }
        }
        if (state.status() != ContainerState.Status.STOPPED) {
            // A created container's init waits for start; killing it ends conmon's wait too.
            Commands.run(runtimeCommand("kill", id, "9"), null, COMMAND_TIMEOUT);
            try {
                exits.exited(id).get(KILL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while deleting container " + id, e);
            } catch (ExecutionException | TimeoutException e) {
                throw new IOException("container " + id + " did not exit after SIGKILL within "
                        + KILL_TIMEOUT.toSeconds() + "s");
            }
        }
        removeEverything(id);
    }

    /**
     * Removes what {@link #create} made for {@code id}: the runtime's container (and so its cgroups), conmon if it
     * still runs, the state directory, the exit file and the socket link. Each step works on what is there.
     */
    private void removeEverything(String id) throws IOException {
        exits.forget(id);
        Path dir = containerDir(id);
        Commands.Result deleted = Commands.run(runtimeCommand("delete", "--force", id), null, COMMAND_TIMEOUT);
        long conmonPid = readPid(dir.resolve("conmon.pid"));
        if (conmonPid > 0) {
            ProcessHandle.of(conmonPid).filter(p -> p.info().command().map(c -> c.endsWith("conmon")).orElse(false))
                    .ifPresent(p -> {
                        p.destroy();
                        p.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> null).join();
                        if (p.isAlive()) {
                            p.destroyForcibly();
                        }
                    });
        }
        Cgroups.remove(CgroupLayout.pathOf(id));
        Files.deleteIfExists(exitDir().resolve(id));
        Files.deleteIfExists(socketDir().resolve(id));
        unbindRootfs(dir);
        deleteTree(dir);
        if (deleted.exitCode() != 0 && !deleted.message().contains("does not exist")
                && !deleted.message().contains("not found") && !deleted.message().contains("No such file")) {
            throw new IOException(name + " could not delete container " + id + ": " + deleted.message());
        }
    }

    @Override
    public ContainerState state(String id) throws IOException {
        requireKnown(id);
        Path dir = containerDir(id);
        ContainerState exited = exitedState(id);
        if (exited != null) {
            return exited;
        }
        Commands.Result result = Commands.run(runtimeCommand("state", id), null, COMMAND_TIMEOUT);
        if (result.exitCode() != 0) {
            // the runtime forgot it (e.g. after a reboot) and conmon left no exit code
            return new ContainerState(id, ContainerState.Status.STOPPED, 0, -1, null, false);
        }
        JsonNode state = JSON.readTree(result.stdout());
        ContainerState.Status status = switch (state.path("status").asText()) {
            case "creating" -> ContainerState.Status.CREATING;
            case "created" -> ContainerState.Status.CREATED;
            case "running" -> ContainerState.Status.RUNNING;
            case "paused" -> ContainerState.Status.PAUSED;
            default -> ContainerState.Status.STOPPED;
        };
        if (status == ContainerState.Status.STOPPED) {
            // the runtime saw the exit before conmon wrote it down: wait for conmon's record
            try {
                exits.exited(id).get(KILL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while reading the state of container " + id, e);
            } catch (ExecutionException | TimeoutException e) {
                return new ContainerState(id, status, 0, -1, null, Files.exists(dir.resolve("persist/oom")));
            }
            return exitedState(id);
        }
        return new ContainerState(id, status, state.path("pid").asLong(0), -1, null, false);
    }

    /** The state from conmon's exit file, or null while there is none. */
    private ContainerState exitedState(String id) throws IOException {
        Path exitFile = exitDir().resolve(id);
        String code;
        try {
            code = Files.readString(exitFile).trim();
        } catch (NoSuchFileException e) {
            return null;
        }
        if (code.isEmpty()) {
            return null;
        }
        Instant finished = Files.getLastModifiedTime(exitFile).toInstant();
        boolean oom = Files.exists(containerDir(id).resolve("persist").resolve("oom"));
        return new ContainerState(id, ContainerState.Status.STOPPED, 0, Integer.parseInt(code), finished, oom);
    }

    @Override
    public CompletableFuture<ContainerState> exit(String id) throws IOException {
        requireKnown(id);
        return exits.exited(id).thenApply(done -> {
            try {
                return exitedState(id);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    // ---- working inside a running container ----------------------------------------------------------------

    @Override
    public Attachment attach(String id) throws IOException {
        requireKnown(id);
        return ConmonAttachment.connect(socketDir().resolve(id));
    }

    @Override
    public ExecProcess exec(String id, ExecSpec spec) throws IOException {
        requireKnown(id);
        JsonNode config = JSON.readTree(containerDir(id).resolve("config.json").toFile());
        Path rootfs = Path.of(config.path("root").path("path").asText());
        boolean privileged = config.path("linux").path("seccomp").isMissingNode()
                && config.path("linux").path("maskedPaths").isMissingNode();
        ObjectNode process = specWriter.execProcess(spec.process(), rootfs, config.path("hostname").asText(null),
                privileged);
        if (spec.process().terminal() && spec.rows() > 0 && spec.columns() > 0) {
            // the runtime gives the new terminal this size before the process runs; a resize would come too late
            process.putObject("consoleSize").put("height", spec.rows()).put("width", spec.columns());
        }
        Path processFile = Files.createTempFile(containerDir(id), "exec-", ".json");
        Files.write(processFile, JSON.writeValueAsBytes(process));
        List<String> command = runtimeCommand("exec", "--process", processFile.toString());
        return spec.process().terminal() ? TerminalExec.start(command, id, processFile, spec.rows(), spec.columns())
                : RuntimeExec.start(command, id, spec, processFile);
    }

    @Override
    public List<Long> processes(String id) throws IOException {
        ContainerState state = state(id);
        List<Long> pids = new ArrayList<>(Cgroups.processes(CgroupLayout.pathOf(id)));
        pids.sort(Comparator.comparing(pid -> pid != state.pid()));
        return pids;
    }

    @Override
    public ResourceUsage usage(String id) throws IOException {
        requireKnown(id);
        return Cgroups.usage(CgroupLayout.pathOf(id));
    }

    /** Writes the file in place, not by rename: the container has it bind-mounted and must see the new text. */
    @Override
    public void updateHosts(String id, List<String> hosts) throws IOException {
        requireKnown(id);
        Files.writeString(containerDir(id).resolve("etc").resolve("hosts"), EtcFiles.hosts(hosts),
                java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);
    }

    /** Stops watching for exits; the containers run on. An empty socket directory goes too. */
    @Override
    public void close() throws IOException {
        exits.close();
        try {
            Files.deleteIfExists(socketDir);
        } catch (DirectoryNotEmptyException e) {
            // containers still running: their links stay for the next instance
        }
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private void runtime(String... args) throws IOException {
        Commands.check(runtimeCommand(args), null, COMMAND_TIMEOUT);
    }

    List<String> runtimeCommand(String... args) {
        List<String> command = new ArrayList<>(List.of(runtime.toString(), "--root", runtimeRoot().toString()));
        command.addAll(List.of(args));
        return command;
    }

    private Path containerDir(String id) {
        return stateRoot.resolve(id);
    }

    private Path exitDir() {
        return stateRoot.resolve("exits");
    }

    private Path runtimeRoot() {
        return runRoot.resolve("root");
    }

    private Path socketDir() {
        return socketDir;
    }

    /**
     * {@code <runRoot>/sock}, unless {@code <that>/<64-character id>/attach} would not fit a unix socket address;
     * then a directory under {@link #SHORT_SOCKET_ROOT} named by the run root's hash, so that every instance with
     * the same run root finds it again.
     */
    static Path socketDirFor(Path runRoot) {
        Path usual = runRoot.toAbsolutePath().resolve("sock");
        if (usual.toString().length() + 1 + 64 + "/attach".length() < Posix.MAX_PATH) {
            return usual;
        }
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256")
                    .digest(usual.toString().getBytes(StandardCharsets.UTF_8));
            return SHORT_SOCKET_ROOT.resolve(HexFormat.of().formatHex(hash, 0, 8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static void checkId(String id) {
        if (id == null || !VALID_ID.matcher(id).matches()) {
            throw new IllegalArgumentException("invalid container id \"" + id + "\": use letters, digits, '_', '.'"
                    + " and '-', starting with a letter or digit, at most 128 characters");
        }
    }

    private void requireKnown(String id) {
        checkId(id);
        if (!Files.isDirectory(containerDir(id))) {
            throw new NoSuchElementException("no such container: " + id);
        }
    }

    private static long readPid(Path file) {
        try {
            return Long.parseLong(Files.readString(file).trim());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
