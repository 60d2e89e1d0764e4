package io.berth.shell;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.berth.spi.containers.CommitRequest;
import io.berth.spi.containers.Container;
import io.berth.spi.containers.ContainerFilter;
import io.berth.spi.containers.ContainerService;
import io.berth.spi.containers.ContainerUpdate;
import io.berth.spi.containers.HostConfig;
import io.berth.spi.containers.HumanTime;
import io.berth.spi.containers.LogOptions;
import io.berth.spi.containers.LogReader;
import io.berth.spi.containers.Top;
import io.berth.spi.containers.WaitCondition;
import io.berth.spi.events.Events;
import io.berth.spi.images.Image;
import io.berth.spi.runtime.Attachment;
import io.berth.spi.runtime.ResourceUsage;
import io.berth.spi.storage.Change;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The container commands of scope {@code berth}, with the docker CLI's names, flags and output. Each
 * {@code @Command} method is one Gogo command ({@code berth:run}, {@code berth:ps}, ...); {@link ShellCommands}
 * parses the arguments with picocli and calls it. Printing goes to {@link System#out}, which Gogo points at the
 * caller's session.
 */
@Command(name = "berth")
final class ContainerCli {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final ContainerService containers;
    private final Events events;

    ContainerCli(ContainerService containers, Events events) {
        this.containers = containers;
        this.events = events;
    }

    @Command(name = "create", description = "Create a new container")
    void create(@Mixin RunOptions options) throws IOException {
        Container created = containers.create(options.name, options.config(), options.hostConfig(),
                options.aliases());
        System.out.println(created.id());
    }

    @Command(name = "run", description = "Create and run a new container from an image")
    void run(@Mixin RunOptions options) throws Exception {
        if (!options.detach && (options.interactive || options.tty)) {
            runAttached(options);
            return;
        }
        HostConfig host = options.hostConfig();
        // In the foreground, --rm is carried out here once the output is read, as the docker CLI once did:
        // the engine removing the container at its exit could race the reading of its log.
        boolean removeAfterwards = host.autoRemove() && !options.detach;
        if (removeAfterwards) {
            options.autoRemove = false;
            host = options.hostConfig();
        }
        Container created = containers.create(options.name, options.config(), host, options.aliases());
        if (options.detach) {
            startOrRemove(created);
            System.out.println(created.id());
            return;
        }
        // The output comes from the container's log, from its first line: nothing is missed, and stdout and
        // stderr stay apart. The log ends when the container has stopped and all of it is read.
        int code;
        try {
            var exit = containers.wait(created.id(), WaitCondition.NEXT_EXIT);
            startOrRemove(created);
            printLog(created.id(), new LogOptions(true, true, true, -1, null, null), false);
            code = exit.get();
        } finally {
            if (removeAfterwards) {
                containers.remove(created.id(), true, true);
            }
        }
        if (code != 0) {
            throw new ExitStatus(code);
        }
    }

    /**
     * {@code run -i}, {@code -t}, {@code -it} in the foreground: attached before it starts, so nothing is missed;
     * the caller's stdin goes in with {@code -i}; the detach keys leave it running. {@code --rm} is the engine's
     * here: a detached container is removed when it exits.
     */
    private void runAttached(RunOptions options) throws Exception {
        Caller caller = Caller.current();
        if (options.interactive && options.tty) {
            caller.requireTerminal();
        }
        Container created = containers.create(options.name, options.config(), options.hostConfig(),
                options.aliases());
        relayUntilExitOrDetach(caller, created.id(), options.interactive, options.tty,
                () -> startOrRemove(created, () -> containers.startAttached(created.id(), options.detachKeys)));
    }

    @Command(name = "attach", description = "Attach local standard input, output, and error streams to a running "
            + "container")
    void attach(@Option(names = "--detach-keys", description = "the key sequence that detaches (default ctrl-p,ctrl-q)")
                String detachKeys,
                @Option(names = "--no-stdin", description = "do not attach stdin") boolean noStdin,
                @Parameters(paramLabel = "CONTAINER") String name) throws Exception {
        Container c = containers.inspect(name);
        boolean stdin = !noStdin && c.config().openStdin();
        Caller caller = Caller.current();
        if (stdin && c.config().tty()) {
            caller.requireTerminal();
        }
        relayUntilExitOrDetach(caller, c.id(), stdin, c.config().tty(), () -> containers.attach(c.id(), detachKeys));
    }

    /**
     * Relays between the caller and container {@code id} through the attachment {@code attach} makes, until the
     * container exits (the command then ends with its status) or the caller types the detach keys (the container
     * keeps running; docker's message is printed).
     */
    private void relayUntilExitOrDetach(Caller caller, String id, boolean stdin, boolean tty,
                                        Start<Attachment> attach) throws Exception {
        PrintStream out = System.out;
        PrintStream err = System.err;
        var exit = containers.wait(id, WaitCondition.NEXT_EXIT);
        boolean detached;
        try (StdioRelay relay = StdioRelay.open(caller, stdin, tty);
             Detaching detaching = new Detaching(events, id);
             Attachment attachment = attach.start()) {
            relay.run(attachment, out, err);
            detached = detaching.detachedBefore(exit);
        }
        if (detached) {
            err.println(Detaching.MESSAGE);
            return;
        }
        int code = exit.get();
        if (code != 0) {
            throw new ExitStatus(code);
        }
    }

    private interface Start<T> {
        T start() throws IOException;
    }

    private void startOrRemove(Container created) throws IOException {
        startOrRemove(created, () -> containers.start(created.id()));
    }

    /**
     * Starts a container {@code run} just created; if it cannot start (a bad user, a missing command), removes it
     * again, so a refused run leaves nothing, and ends with docker run's status: 127 for a command that is not
     * found, 126 for one that cannot be run, 125 otherwise.
     */
    private <T> T startOrRemove(Container created, Start<T> start) throws IOException {
        try {
            return start.start();
        } catch (IOException | RuntimeException e) {
            int code = containers.inspect(created.id()).state().exitCode();
            containers.remove(created.id(), true, true);
            System.err.println(e.getMessage());
            throw new ExitStatus(code == 126 || code == 127 ? code : 125);
        }
    }

    @Command(name = "start", description = "Start one or more stopped containers")
    void start(@Parameters(paramLabel = "CONTAINER", arity = "1..*") List<String> names) throws IOException {
        forEach(names, name -> containers.start(name));
    }

    @Command(name = "stop", description = "Stop one or more running containers")
    void stop(@Option(names = {"-t", "--time"}, description = "seconds to wait before killing it") Integer time,
              @Parameters(paramLabel = "CONTAINER", arity = "1..*") List<String> names) throws IOException {
        forEach(names, name -> containers.stop(name, time));
    }

    @Command(name = "restart", description = "Restart one or more containers")
    void restart(@Option(names = {"-t", "--time"}, description = "seconds to wait before killing it") Integer time,
                 @Parameters(paramLabel = "CONTAINER", arity = "1..*") List<String> names) throws IOException {
        forEach(names, name -> containers.restart(name, time));
    }

    @Command(name = "kill", description = "Kill one or more running containers")
    void kill(@Option(names = {"-s", "--signal"}, description = "the signal (default KILL)") String signal,
              @Parameters(paramLabel = "CONTAINER", arity = "1..*") List<String> names) throws IOException {
        forEach(names, name -> containers.kill(name, signal));
    }

    @Command(name = "rm", description = "Remove one or more containers")
    void rm(@Option(names = {"-f", "--force"}, description = "kill a running container first") boolean force,
            @Option(names = {"-v", "--volumes"}, description = "remove its anonymous volumes") boolean volumes,
            @Parameters(paramLabel = "CONTAINER", arity = "1..*") List<String> names) throws IOException {
        forEach(names, name -> containers.remove(name, force, volumes));
    }

    @Command(name = "pause", description = "Pause all processes within one or more containers")
    void pause(@Parameters(paramLabel = "CONTAINER", arity = "1..*") List<String> names) throws IOException {
        forEach(names, containers::pause);
    }

    @Command(name = "unpause", description = "Unpause all processes within one or more containers")
    void unpause(@Parameters(paramLabel = "CONTAINER", arity = "1..*") List<String> names) throws IOException {
        forEach(names, containers::unpause);
    }

    @Command(name = "wait", description = "Block until one or more containers stop, then print their exit codes")
    void await(@Option(names = "--condition", description = "not-running (default), next-exit or removed")
               String condition,
               @Parameters(paramLabel = "CONTAINER", arity = "1..*") List<String> names) throws Exception {
        WaitCondition waitFor = condition == null ? WaitCondition.NOT_RUNNING
                : switch (condition) {
                    case "not-running" -> WaitCondition.NOT_RUNNING;
                    case "next-exit" -> WaitCondition.NEXT_EXIT;
                    case "removed" -> WaitCondition.REMOVED;
                    default -> throw new IllegalArgumentException("invalid condition \"" + condition
                            + "\": use not-running, next-exit or removed");
                };
        for (String name : names) {
            try {
                System.out.println(containers.wait(name, waitFor).get());
            } catch (ExecutionException e) {
                throw e.getCause() instanceof Exception cause ? cause : e;
            }
        }
    }

    @Command(name = "rename", description = "Rename a container")
    void rename(@Parameters(index = "0", paramLabel = "CONTAINER") String name,
                @Parameters(index = "1", paramLabel = "NEW_NAME") String newName) throws IOException {
        containers.rename(name, newName);
    }

    @Command(name = "update", description = "Update configuration of one or more containers")
    void update(@Option(names = {"-m", "--memory"}, description = "memory limit (e.g. 512m)") String memory,
                @Option(names = "--memory-swap", description = "memory plus swap limit, -1 for unlimited swap")
                String memorySwap,
                @Option(names = "--cpus", description = "number of CPUs (e.g. 1.5)") String cpus,
                @Option(names = {"-c", "--cpu-shares"}, description = "CPU shares (relative weight)") String shares,
                @Option(names = "--pids-limit", description = "most processes and threads, -1 for unlimited")
                String pidsLimit,
                @Option(names = "--restart", description = "restart policy: no, on-failure[:N], always, unless-stopped")
                String restart,
                @Parameters(paramLabel = "CONTAINER", arity = "1..*") List<String> names) throws IOException {
        ContainerUpdate update = new ContainerUpdate(
                memory == null ? 0 : ByteSizes.parse(memory, "-m, --memory"),
                memorySwap == null ? 0 : memorySwap.equals("-1") ? -1 : ByteSizes.parse(memorySwap, "--memory-swap"),
                cpus == null ? 0 : RunOptions.nanoCpus(cpus),
                shares == null ? 0 : RunOptions.integer(shares, "-c, --cpu-shares"),
                pidsLimit == null ? null : (long) RunOptions.integer(pidsLimit, "--pids-limit"),
                restart == null ? null : JSON.treeToValue(RunOptions.restartPolicy(restart), HostConfig.RestartPolicy.class));
        if (update.equals(new ContainerUpdate(0, 0, 0, 0, null, null))) {
            throw new IllegalArgumentException("you must provide one or more flags when using this command");
        }
        forEach(names, name -> containers.update(name, update));
    }

    @Command(name = "ps", description = "List containers")
    void ps(@Option(names = {"-a", "--all"}, description = "show all containers, not only running ones") boolean all,
            @Option(names = {"-q", "--quiet"}, description = "only ids") boolean quiet,
            @Option(names = "--no-trunc", description = "do not truncate output") boolean noTrunc,
            @Option(names = {"-n", "--last"}, defaultValue = "-1", description = "the n last created containers")
            int last,
            @Option(names = {"-l", "--latest"}, description = "the latest created container") boolean latest,
            @Option(names = {"-f", "--filter"}, description = "filter: status=, name=, id=, label=, ancestor=, exited=")
            List<String> filters) throws IOException {
        ContainerFilter filter = ContainerFilter.parse(filters == null ? List.of() : filters);
        int limit = latest ? 1 : last;
        List<Container> shown = new ArrayList<>();
        for (Container c : containers.list(all || limit > 0 || filter.needsAll())) {
            if (filter.matches(c) && (limit < 0 || shown.size() < limit)) {
                shown.add(c);
            }
        }
        if (quiet) {
            shown.forEach(c -> System.out.println(noTrunc ? c.id() : c.id().substring(0, 12)));
            return;
        }
        Instant now = Instant.now();
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"});
        for (Container c : shown) {
            String command = String.join(" ", c.commandLine());
            rows.add(new String[] {noTrunc ? c.id() : c.id().substring(0, 12), c.config().image(),
                    "\"" + (noTrunc ? command : ellipsis(command, 20)) + "\"", HumanTime.ago(c.created(), now),
                    c.state().describe(now), c.networkSettings() == null ? "" : c.networkSettings().describePorts(),
                    c.shortName()});
        }
        System.out.print(Table.render(rows));
    }

    @Command(name = "logs", description = "Fetch the logs of a container")
    void logs(@Option(names = {"-f", "--follow"}, description = "follow log output") boolean follow,
              @Option(names = {"-n", "--tail"}, defaultValue = "all", description = "lines from the end, or all")
              String tail,
              @Option(names = "--since", description = "since a time (RFC 3339, Unix seconds or 10m)") String since,
              @Option(names = "--until", description = "before a time (RFC 3339, Unix seconds or 10m)") String until,
              @Option(names = {"-t", "--timestamps"}, description = "show timestamps") boolean timestamps,
              @Parameters(paramLabel = "CONTAINER") String name) throws IOException {
        int lines;
        try {
            lines = tail.equals("all") ? -1 : Integer.parseInt(tail);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid argument \"" + tail + "\" for \"-n, --tail\" flag");
        }
        Instant now = Instant.now();
        LogOptions options = new LogOptions(true, true, follow, lines, time(since, now, "--since"),
                time(until, now, "--until"));
        printLog(name, options, timestamps);
    }

    @Command(name = "inspect", description = "Show a container's details as JSON")
    void inspect(@Parameters(paramLabel = "CONTAINER", arity = "1..*") List<String> names) throws IOException {
        List<Container> found = new ArrayList<>();
        for (String name : names) {
            found.add(containers.inspect(name));
        }
        System.out.println(JSON.writeValueAsString(found));
    }

    @Command(name = "port", description = "List a container's published ports")
    void port(@Parameters(paramLabel = "CONTAINER") String name,
              @Parameters(arity = "0..1", paramLabel = "PRIVATE_PORT[/PROTO]") String privatePort) throws IOException {
        Container c = containers.inspect(name);
        Map<String, List<HostConfig.PortBinding>> ports = c.networkSettings() == null ? Map.of()
                : c.networkSettings().ports();
        String wanted = privatePort == null ? null : privatePort.contains("/") ? privatePort : privatePort + "/tcp";
        if (wanted != null && !ports.containsKey(wanted)) {
            throw new IllegalArgumentException("No public port '" + wanted + "' published for " + c.shortName());
        }
        for (Map.Entry<String, List<HostConfig.PortBinding>> port : new java.util.TreeMap<>(ports).entrySet()) {
            if (wanted == null || wanted.equals(port.getKey())) {
                for (HostConfig.PortBinding binding : port.getValue()) {
                    System.out.println((wanted == null ? port.getKey() + " -> " : "") + binding.hostIp() + ":"
                            + binding.hostPort());
                }
            }
        }
    }

    @Command(name = "top", description = "Display the running processes of a container")
    void top(@Parameters(index = "0", paramLabel = "CONTAINER") String name,
             @Parameters(index = "1..*", paramLabel = "PS_OPTIONS") List<String> psOptions) throws IOException {
        Top top = containers.top(name, psOptions == null || psOptions.isEmpty() ? null : String.join(" ", psOptions));
        List<String[]> rows = new ArrayList<>();
        rows.add(top.titles().toArray(String[]::new));
        top.processes().forEach(p -> rows.add(p.toArray(String[]::new)));
        System.out.print(Table.render(rows));
    }

    @Command(name = "stats", description = "Display a snapshot of containers' resource usage")
    void stats(@Option(names = "--no-stream", description = "print one snapshot (the shell never streams)")
               boolean noStream,
               @Parameters(paramLabel = "CONTAINER", arity = "0..*") List<String> names) throws Exception {
        List<Container> shown = new ArrayList<>();
        if (names == null || names.isEmpty()) {
            shown.addAll(containers.list(false));
        } else {
            for (String name : names) {
                shown.add(containers.inspect(name));
            }
        }
        // CPU % needs two readings, as the docker CLI takes them.
        Map<String, ResourceUsage> first = new java.util.HashMap<>();
        for (Container c : shown) {
            first.put(c.id(), containers.stats(c.id()));
        }
        long start = System.nanoTime();
        Thread.sleep(1000);
        long elapsed = System.nanoTime() - start;
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "PIDS"});
        for (Container c : shown) {
            ResourceUsage now = containers.stats(c.id());
            double cpu = 100.0 * (now.cpuNanos() - first.get(c.id()).cpuNanos()) / elapsed;
            double mem = now.memoryLimit() == 0 ? 0 : 100.0 * now.memoryBytes() / now.memoryLimit();
            rows.add(new String[] {c.id().substring(0, 12), c.shortName(), String.format(Locale.ROOT, "%.2f%%", cpu),
                    Sizes.binary(now.memoryBytes()) + " / " + Sizes.binary(now.memoryLimit()),
                    String.format(Locale.ROOT, "%.2f%%", mem), Long.toString(now.pids())});
        }
        System.out.print(Table.render(rows));
    }

    @Command(name = "diff", description = "Inspect changes to files or directories on a container's filesystem")
    void diff(@Parameters(paramLabel = "CONTAINER") String name) throws IOException {
        for (Change change : containers.changes(name)) {
            char kind = switch (change.kind()) {
                case ADDED -> 'A';
                case MODIFIED -> 'C';
                case DELETED -> 'D';
            };
            System.out.println(kind + " " + change.path());
        }
    }

    @Command(name = "commit", description = "Create a new image from a container's changes")
    void commit(@Option(names = {"-a", "--author"}, description = "the author (e.g. \"Jane <jane@example.org>\")")
                String author,
                @Option(names = {"-c", "--change"}, description = "a Dockerfile instruction applied to the image")
                List<String> changes,
                @Option(names = {"-m", "--message"}, description = "the commit message") String message,
                @Option(names = {"-p", "--pause"}, negatable = true, defaultValue = "true", fallbackValue = "true",
                        description = "pause the container while its changes are read (default true)") boolean pause,
                @Parameters(paramLabel = "CONTAINER") String name,
                @Parameters(paramLabel = "REPOSITORY[:TAG]", arity = "0..1") String reference) throws IOException {
        Image image = containers.commit(name, new CommitRequest(reference, message == null ? "" : message,
                author == null ? "" : author, changes == null ? List.of() : changes, pause));
        System.out.println(image.id());
    }

    @Command(name = "export", description = "Export a container's filesystem as a tar archive")
    void export(@Option(names = {"-o", "--output"}, required = true, description = "the file to write") String file,
                @Parameters(paramLabel = "CONTAINER") String name) throws IOException {
        Path target = Path.of(file);
        Path temp = target.resolveSibling(target.getFileName() + ".tmp");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(temp), 1 << 20)) {
            containers.export(name, out);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
    }

    @Command(name = "exec", description = "Execute a command in a running container")
    void exec(@Option(names = {"-d", "--detach"}, description = "run it in the background") boolean detach,
              @Option(names = {"-i", "--interactive"}, description = "keep stdin open") boolean interactive,
              @Option(names = {"-t", "--tty"}, description = "allocate a pseudo-TTY") boolean tty,
              @Option(names = {"-e", "--env"}, description = "set an environment variable") List<String> env,
              @Option(names = {"-u", "--user"}, description = "user name or uid[:gid]") String user,
              @Option(names = {"-w", "--workdir"}, description = "working directory") String workdir,
              @Option(names = "--privileged", description = "extended privileges") boolean privileged,
              @Parameters(index = "0", paramLabel = "CONTAINER") String name,
              @Parameters(index = "1..*", arity = "1..*", paramLabel = "COMMAND") List<String> command)
            throws Exception {
        Caller caller = Caller.current();
        if (interactive && tty && !detach) {
            caller.requireTerminal();
        }
        PrintStream out = System.out;
        PrintStream err = System.err;
        var process = containers.exec(name, new io.berth.spi.containers.ExecConfig(command, env, user, workdir,
                tty, interactive && !detach, privileged));
        if (detach) {
            process.close();
            return;
        }
        int code;
        try (process; StdioRelay relay = StdioRelay.open(caller, interactive, tty)) {
            relay.run(process, out, err);
            code = process.waitFor();
        }
        if (code != 0) {
            throw new ExitStatus(code);
        }
    }

    @Command(name = "cp", description = "Copy files/folders between a container and the local filesystem "
            + "(CONTAINER:SRC DEST, SRC CONTAINER:DEST; - for a tar on stdout or stdin)")
    void cp(@Option(names = {"-a", "--archive"}, description = "keep owners and modes (always done: the daemon runs "
                    + "as root)") boolean archive,
            @Option(names = {"-L", "--follow-link"}, description = "always follow a symbolic link in SRC")
            boolean followLink,
            @Parameters(index = "0", paramLabel = "SRC") String source,
            @Parameters(index = "1", paramLabel = "DEST") String destination) throws IOException {
        Caller caller = Caller.current();
        new DockerCp(containers).copy(source, destination, followLink, caller.stdin(), System.out);
    }

    @Command(name = "container-prune", description = "Remove all stopped containers")
    void prune(@Option(names = {"-f", "--force"}, description = "do not ask (the shell never asks)") boolean force)
            throws IOException {
        List<String> removed = containers.prune();
        if (!removed.isEmpty()) {
            System.out.println("Deleted Containers:");
            removed.forEach(System.out::println);
            System.out.println();
        }
        System.out.println("Total reclaimed space: 0B");
    }

    // ------------------------------------------------------------------------------------------------------------

    private interface ForName {
        void apply(String name) throws IOException;
    }

    /** Runs the action on each name and prints it, as the CLI does; the failures are reported together at the end. */
    private static void forEach(List<String> names, ForName action) throws IOException {
        List<String> errors = new ArrayList<>();
        for (String name : names) {
            try {
                action.apply(name);
                System.out.println(name);
            } catch (IOException | RuntimeException e) {
                errors.add(e.getMessage());
            }
        }
        if (!errors.isEmpty()) {
            throw new IllegalStateException(String.join("\n", errors));
        }
    }

    /** Prints a container's log as it comes, stdout to stdout and stderr to stderr. */
    private void printLog(String name, LogOptions options, boolean timestamps) throws IOException {
        try (LogReader reader = containers.logs(name, options)) {
            for (LogReader.Entry entry = reader.next(); entry != null; entry = reader.next()) {
                PrintStream out = entry.stream() == Attachment.STDERR ? System.err : System.out;
                if (timestamps) {
                    out.print(entry.time().toString() + " ");
                }
                out.write(entry.data());
                out.flush();
            }
        }
    }

    static String ellipsis(String text, int max) {
        return text.codePointCount(0, text.length()) <= max ? text
                : text.substring(0, text.offsetByCodePoints(0, max - 1)) + "…";
    }


    /** {@code --since}/{@code --until}: RFC 3339, Unix seconds (with fraction) or a duration back from now. */
    static Instant time(String value, Instant now, String flag) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        try {
            if (value.matches("\\d+(\\.\\d+)?")) {
                java.math.BigDecimal seconds = new java.math.BigDecimal(value);
                return Instant.ofEpochSecond(seconds.longValue(),
                        seconds.remainder(java.math.BigDecimal.ONE).movePointRight(9).longValue());
            }
            if (value.matches("(\\d+(\\.\\d+)?(ns|us|ms|s|m|h))+")) {
                return now.minus(goDuration(value));
            }
            return Instant.parse(value);
        } catch (DateTimeParseException | ArithmeticException e) {
            throw new IllegalArgumentException("invalid argument \"" + value + "\" for \"" + flag
                    + "\" flag: use an RFC 3339 time, Unix seconds or a duration such as 10m");
        }
    }

    private static Duration goDuration(String value) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|ms|s|m|h)").matcher(value);
        double nanos = 0;
        while (m.find()) {
            double n = Double.parseDouble(m.group(1));
            nanos += n * switch (m.group(2)) {
                case "ns" -> 1;
                case "us" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
            };
        }
        return Duration.ofNanos((long) nanos);
    }
}
