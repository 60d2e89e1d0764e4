package io.berth.shell;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.spi.containers.ContainerConfig;
import io.berth.spi.containers.HostConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The options of {@code docker create} and {@code docker run}, with the docker CLI's names, turned into the Engine
 * API's {@code Config} and {@code HostConfig} the way the CLI builds its request body. Flags come before the image;
 * everything after it is the command.
 */
public class RunOptions {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern PORT_RANGE = Pattern.compile("\\d{1,5}(-\\d{1,5})?");

    @Option(names = {"-d", "--detach"}, description = "run in the background and print the container id")
    boolean detach;
    @Option(names = {"-i", "--interactive"}, description = "keep stdin open")
    boolean interactive;
    @Option(names = {"-t", "--tty"}, description = "allocate a pseudo-TTY")
    boolean tty;
    @Option(names = "--name", description = "the container's name")
    String name;
    @Option(names = {"-e", "--env"}, description = "set an environment variable (NAME=value)")
    List<String> env = new ArrayList<>();
    @Option(names = "--env-file", description = "read environment variables from a file")
    List<String> envFiles = new ArrayList<>();
    @Option(names = {"-l", "--label"}, description = "set a label (name=value)")
    List<String> labels = new ArrayList<>();
    @Option(names = {"-v", "--volume"}, description = "bind mount a volume ([SOURCE:]TARGET[:OPTIONS])")
    List<String> volumes = new ArrayList<>();
    @Option(names = "--mount", description = "attach a filesystem mount (type=bind|volume|tmpfs,source=,target=,...)")
    List<String> mounts = new ArrayList<>();
    @Option(names = "--tmpfs", description = "mount a tmpfs (PATH[:OPTIONS])")
    List<String> tmpfs = new ArrayList<>();
    @Option(names = {"-p", "--publish"}, description = "publish a port ([IP:][HOSTPORT:]PORT[/PROTO])")
    List<String> publish = new ArrayList<>();
    @Option(names = {"-P", "--publish-all"}, description = "publish every exposed port to a random port")
    boolean publishAll;
    @Option(names = "--expose", description = "expose a port or a range")
    List<String> expose = new ArrayList<>();
    @Option(names = "--restart", description = "restart policy: no, on-failure[:N], always, unless-stopped")
    String restart = "no";
    @Option(names = "--rm", description = "remove the container when it exits")
    boolean autoRemove;
    @Option(names = {"-w", "--workdir"}, description = "working directory in the container")
    String workdir;
    @Option(names = {"-u", "--user"}, description = "user name or uid, with an optional group (name|uid[:group|gid])")
    String user;
    @Option(names = {"-h", "--hostname"}, description = "the container's host name")
    String hostname;
    @Option(names = "--domainname", description = "the container's domain name")
    String domainname;
    @Option(names = "--entrypoint", description = "overwrite the image's entrypoint")
    String entrypoint;
    @Option(names = "--read-only", description = "mount the root filesystem read-only")
    boolean readOnly;
    @Option(names = "--privileged", description = "give the container every capability and the host's devices")
    boolean privileged;
    @Option(names = "--cap-add", description = "add a Linux capability")
    List<String> capAdd = new ArrayList<>();
    @Option(names = "--cap-drop", description = "drop a Linux capability")
    List<String> capDrop = new ArrayList<>();
    @Option(names = "--security-opt", description = "security option (no-new-privileges, seccomp=unconfined)")
    List<String> securityOpt = new ArrayList<>();
    @Option(names = {"-m", "--memory"}, description = "memory limit (e.g. 512m)")
    String memory;
    @Option(names = "--memory-swap", description = "memory plus swap limit, -1 for unlimited swap")
    String memorySwap;
    @Option(names = "--cpus", description = "number of CPUs (e.g. 1.5)")
    String cpus;
    @Option(names = {"-c", "--cpu-shares"}, description = "CPU shares (relative weight)")
    String cpuShares;
    @Option(names = "--pids-limit", description = "most processes and threads, -1 for unlimited")
    String pidsLimit;
    @Option(names = {"--network", "--net"}, description = "network mode: bridge, none, host, container:NAME or a network")
    String network;
    @Option(names = {"--network-alias", "--net-alias"}, description = "another name on the network")
    List<String> networkAliases = new ArrayList<>();
    @Option(names = "--dns", description = "a DNS server")
    List<String> dns = new ArrayList<>();
    @Option(names = "--dns-search", description = "a DNS search domain")
    List<String> dnsSearch = new ArrayList<>();
    @Option(names = {"--dns-option", "--dns-opt"}, description = "a DNS option")
    List<String> dnsOptions = new ArrayList<>();
    @Option(names = "--add-host", description = "add a host-to-IP mapping (host:ip)")
    List<String> addHost = new ArrayList<>();
    @Option(names = "--shm-size", description = "size of /dev/shm")
    String shmSize;
    @Option(names = "--sysctl", description = "a namespaced kernel parameter (name=value)")
    List<String> sysctls = new ArrayList<>();
    @Option(names = "--stop-signal", description = "signal that stops the container")
    String stopSignal;
    @Option(names = "--stop-timeout", description = "seconds to wait for it to stop before killing it")
    Integer stopTimeout;
    @Option(names = "--runtime", description = "the container runtime (runc, crun or one from daemon.json)")
    String runtime;

    @Option(names = "--userns", description = "user namespace: host for the host's, even with userns-remap set")
    String userns;
    @Option(names = "--detach-keys", description = "key sequence that detaches from the container")
    String detachKeys;
    @Parameters(index = "0", paramLabel = "IMAGE", description = "the image")
    String image;
    @Parameters(index = "1..*", paramLabel = "COMMAND", description = "the command and its arguments")
    List<String> command = new ArrayList<>();

    /** The request's {@code Config}. */
    ContainerConfig config() throws IOException {
        ObjectNode config = JSON.createObjectNode();
        config.put("Image", image);
        putIfSet(config, "Hostname", hostname);
        putIfSet(config, "Domainname", domainname);
        putIfSet(config, "User", user);
        putIfSet(config, "WorkingDir", workdir);
        putIfSet(config, "StopSignal", stopSignal);
        if (stopTimeout != null) {
            config.put("StopTimeout", stopTimeout);
        }
        config.put("Tty", tty);
        config.put("OpenStdin", interactive);
        config.put("StdinOnce", interactive && !detach);
        config.put("AttachStdin", interactive && !detach);
        config.put("AttachStdout", !detach);
        config.put("AttachStderr", !detach);
        List<String> environment = new ArrayList<>();
        for (String file : envFiles) {
            environment.addAll(readEnvFile(file));
        }
        environment.addAll(env);
        if (!environment.isEmpty()) {
            config.set("Env", strings(environment));
        }
        if (!command.isEmpty()) {
            config.set("Cmd", strings(command));
        }
        if (entrypoint != null) {
            // As the CLI sends it: --entrypoint "" clears the image's entrypoint.
            config.set("Entrypoint", strings(List.of(entrypoint)));
        }
        if (!labels.isEmpty()) {
            config.set("Labels", keyValues(labels, "--label"));
        }
        ObjectNode exposed = JSON.createObjectNode();
        for (String port : expose) {
            exposed.set(withProtocol(port), JSON.createObjectNode());
        }
        for (String spec : publish) {
            exposed.set(parsePort(spec).containerPort(), JSON.createObjectNode());
        }
        if (!exposed.isEmpty()) {
            config.set("ExposedPorts", exposed);
        }
        return JSON.treeToValue(config, ContainerConfig.class);
    }

    /** The request's {@code HostConfig}. */
    /** {@code --network-alias}, for the network {@code --network} names. */
    Map<String, List<String>> aliases() {
        if (networkAliases.isEmpty()) {
            return Map.of();
        }
        if (network == null) {
            throw new IllegalArgumentException("network-scoped alias is supported only for containers in user"
                    + " defined networks");
        }
        return Map.of(network, List.copyOf(networkAliases));
    }

    HostConfig hostConfig() throws IOException {
        ObjectNode host = JSON.createObjectNode();
        if (!volumes.isEmpty()) {
            host.set("Binds", strings(volumes));
        }
        ArrayNode mountNodes = JSON.createArrayNode();
        for (String mount : mounts) {
            mountNodes.add(parseMount(mount));
        }
        if (!mountNodes.isEmpty()) {
            host.set("Mounts", mountNodes);
        }
        if (!tmpfs.isEmpty()) {
            ObjectNode tmpfsNode = JSON.createObjectNode();
            for (String entry : tmpfs) {
                int colon = entry.indexOf(':');
                tmpfsNode.put(colon < 0 ? entry : entry.substring(0, colon), colon < 0 ? "" : entry.substring(colon + 1));
            }
            host.set("Tmpfs", tmpfsNode);
        }
        ObjectNode bindings = JSON.createObjectNode();
        for (String spec : publish) {
            PortSpec port = parsePort(spec);
            ArrayNode list = bindings.has(port.containerPort()) ? (ArrayNode) bindings.get(port.containerPort())
                    : bindings.putArray(port.containerPort());
            list.addObject().put("HostIp", port.hostIp()).put("HostPort", port.hostPort());
        }
        if (!bindings.isEmpty()) {
            host.set("PortBindings", bindings);
        }
        host.put("PublishAllPorts", publishAll);
        host.set("RestartPolicy", restartPolicy(restart));
        host.put("AutoRemove", autoRemove);
        if (autoRemove && !restart.equals("no")) {
            throw new IllegalArgumentException("Conflicting options: --restart and --rm");
        }
        host.put("ReadonlyRootfs", readOnly);
        host.put("Privileged", privileged);
        putList(host, "CapAdd", capAdd);
        putList(host, "CapDrop", capDrop);
        putList(host, "SecurityOpt", securityOpt);
        putList(host, "Dns", dns);
        putList(host, "DnsSearch", dnsSearch);
        putList(host, "DnsOptions", dnsOptions);
        putList(host, "ExtraHosts", addHost);
        if (!sysctls.isEmpty()) {
            host.set("Sysctls", keyValues(sysctls, "--sysctl"));
        }
        host.put("NetworkMode", network == null ? "default" : network);
        putIfSet(host, "Runtime", runtime);
        putIfSet(host, "UsernsMode", userns);
        if (memory != null) {
            host.put("Memory", ByteSizes.parse(memory, "-m, --memory"));
        }
        if (memorySwap != null) {
            host.put("MemorySwap", memorySwap.equals("-1") ? -1 : ByteSizes.parse(memorySwap, "--memory-swap"));
        }
        if (shmSize != null) {
            host.put("ShmSize", ByteSizes.parse(shmSize, "--shm-size"));
        }
        if (cpus != null) {
            host.put("NanoCpus", nanoCpus(cpus));
        }
        if (cpuShares != null) {
            host.put("CpuShares", integer(cpuShares, "-c, --cpu-shares"));
        }
        if (pidsLimit != null) {
            host.put("PidsLimit", integer(pidsLimit, "--pids-limit"));
        }
        return JSON.treeToValue(host, HostConfig.class);
    }

    private static void putIfSet(ObjectNode node, String field, String value) {
        if (value != null) {
            node.put(field, value);
        }
    }

    private static void putList(ObjectNode node, String field, List<String> values) {
        if (!values.isEmpty()) {
            node.set(field, strings(values));
        }
    }

    private static ArrayNode strings(List<String> values) {
        ArrayNode array = JSON.createArrayNode();
        values.forEach(array::add);
        return array;
    }

    private static ObjectNode keyValues(List<String> entries, String flag) {
        ObjectNode node = JSON.createObjectNode();
        for (String entry : entries) {
            int equals = entry.indexOf('=');
            if (equals == 0) {
                throw new IllegalArgumentException("invalid argument \"" + entry + "\" for \"" + flag
                        + "\" flag: no name before '='");
            }
            node.put(equals < 0 ? entry : entry.substring(0, equals), equals < 0 ? "" : entry.substring(equals + 1));
        }
        return node;
    }

    private static List<String> readEnvFile(String file) throws IOException {
        List<String> entries = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(file), StandardCharsets.UTF_8)) {
            String trimmed = line.strip();
            if (!trimmed.isEmpty() && !trimmed.startsWith("#")) {
                entries.add(trimmed);
            }
        }
        return entries;
    }

    /** {@code no}, {@code always}, {@code unless-stopped}, {@code on-failure[:N]}, as the CLI checks them. */
    static ObjectNode restartPolicy(String spec) {
        String[] parts = spec.split(":", 2);
        ObjectNode policy = JSON.createObjectNode();
        switch (parts[0]) {
            case "no", "always", "unless-stopped" -> {
                if (parts.length > 1) {
                    throw new IllegalArgumentException("invalid restart policy " + spec
                            + ": maximum retry count can only be used with 'on-failure'");
                }
                policy.put("Name", parts[0]);
            }
            case "on-failure" -> {
                policy.put("Name", "on-failure");
                if (parts.length > 1) {
                    int count = integer(parts[1], "--restart");
                    if (count < 0) {
                        throw new IllegalArgumentException("invalid restart policy " + spec
                                + ": maximum retry count cannot be negative");
                    }
                    policy.put("MaximumRetryCount", count);
                }
            }
            default -> throw new IllegalArgumentException("invalid restart policy " + spec
                    + ": use no, always, unless-stopped or on-failure[:max-retries]");
        }
        return policy;
    }

    /** {@code --mount type=bind,source=/a,target=/b,readonly}: the CLI's CSV syntax. */
    static ObjectNode parseMount(String spec) {
        ObjectNode mount = JSON.createObjectNode();
        mount.put("Type", "volume");
        ObjectNode volumeOptions = null;
        ObjectNode tmpfsOptions = null;
        for (String field : spec.split(",")) {
            int equals = field.indexOf('=');
            String key = (equals < 0 ? field : field.substring(0, equals)).strip().toLowerCase(java.util.Locale.ROOT);
            String value = equals < 0 ? null : field.substring(equals + 1);
            switch (key) {
                case "type" -> mount.put("Type", required(value, key, spec));
                case "source", "src" -> mount.put("Source", required(value, key, spec));
                case "target", "destination", "dst" -> mount.put("Target", required(value, key, spec));
                case "readonly", "ro" -> mount.put("ReadOnly", value == null || Boolean.parseBoolean(value)
                        || value.equals("1"));
                case "volume-nocopy" -> {
                    volumeOptions = volumeOptions == null ? mount.putObject("VolumeOptions") : volumeOptions;
                    volumeOptions.put("NoCopy", value == null || Boolean.parseBoolean(value) || value.equals("1"));
                }
                case "tmpfs-size" -> {
                    tmpfsOptions = tmpfsOptions == null ? mount.putObject("TmpfsOptions") : tmpfsOptions;
                    tmpfsOptions.put("SizeBytes", ByteSizes.parse(required(value, key, spec), "--mount tmpfs-size"));
                }
                case "tmpfs-mode" -> {
                    tmpfsOptions = tmpfsOptions == null ? mount.putObject("TmpfsOptions") : tmpfsOptions;
                    try {
                        tmpfsOptions.put("Mode", Integer.parseInt(required(value, key, spec), 8));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("invalid --mount " + spec + ": tmpfs-mode must be octal");
                    }
                }
                default -> throw new IllegalArgumentException("invalid --mount " + spec + ": unexpected key '" + key
                        + "'");
            }
        }
        if (!mount.has("Target")) {
            throw new IllegalArgumentException("invalid --mount " + spec + ": target is required");
        }
        return mount;
    }

    private static String required(String value, String key, String spec) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("invalid --mount " + spec + ": " + key + " needs a value");
        }
        return value;
    }

    /** A parsed {@code -p}: the container port with its protocol ({@code 80/tcp}) and where it is published. */
    record PortSpec(String hostIp, String hostPort, String containerPort) {
    }

    /** {@code [IP:][HOSTPORT:]PORT[/PROTO]}, IPv6 addresses in brackets, port ranges with a dash. */
    static PortSpec parsePort(String spec) {
        String rest = spec;
        String protocol = "tcp";
        int slash = rest.lastIndexOf('/');
        if (slash >= 0) {
            protocol = rest.substring(slash + 1);
            rest = rest.substring(0, slash);
        }
        String hostIp = "";
        if (rest.startsWith("[")) {
            int close = rest.indexOf("]:");
            if (close < 0) {
                throw badPort(spec);
            }
            hostIp = rest.substring(1, close);
            rest = rest.substring(close + 2);
        }
        String[] parts = rest.split(":", -1);
        String hostPort = "";
        String containerPort;
        switch (parts.length) {
            case 1 -> containerPort = parts[0];
            case 2 -> {
                hostPort = parts[0];
                containerPort = parts[1];
            }
            case 3 -> {
                if (!hostIp.isEmpty()) {
                    throw badPort(spec);
                }
                hostIp = parts[0];
                hostPort = parts[1];
                containerPort = parts[2];
            }
            default -> throw badPort(spec);
        }
        if (!PORT_RANGE.matcher(containerPort).matches() || !(hostPort.isEmpty() || PORT_RANGE.matcher(hostPort).matches())
                || !List.of("tcp", "udp", "sctp").contains(protocol)) {
            throw badPort(spec);
        }
        return new PortSpec(hostIp, hostPort, containerPort + "/" + protocol);
    }

    private static IllegalArgumentException badPort(String spec) {
        return new IllegalArgumentException("invalid argument \"" + spec
                + "\" for \"-p, --publish\" flag: expected [IP:][HOSTPORT:]PORT[/PROTOCOL]");
    }

    private static String withProtocol(String port) {
        if (!port.matches("\\d+(-\\d+)?(/(tcp|udp|sctp))?")) {
            throw new IllegalArgumentException("invalid argument \"" + port + "\" for \"--expose\" flag");
        }
        return port.contains("/") ? port : port + "/tcp";
    }

    static long nanoCpus(String value) {
        try {
            java.math.BigDecimal cpus = new java.math.BigDecimal(value);
            if (cpus.signum() < 0) {
                throw new NumberFormatException();
            }
            return cpus.movePointRight(9).longValueExact();
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("invalid argument \"" + value + "\" for \"--cpus\" flag: "
                    + "expected a number of CPUs such as 1.5");
        }
    }

    static int integer(String value, String flag) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid argument \"" + value + "\" for \"" + flag
                    + "\" flag: not an integer");
        }
    }
}
