package io.berth.runtime.oci;

import io.berth.spi.idmap.IdMap;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.spi.runtime.RuntimeSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;


/**
 * Turns a {@link RuntimeSpec} into an OCI runtime-spec {@code config.json} with what Docker adds to every
 * container: namespaces, cgroup limits, the default capabilities and seccomp profile, masked and read-only paths,
 * {@code /proc}, {@code /dev}, {@code /sys} and friends, and the generated {@code /etc} files.
 */
final class OciSpecWriter {

    /** Docker's PATH for containers whose image sets none. */
    static final String DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    static final long DEFAULT_SHM_SIZE = 64L * 1024 * 1024;
    /** containerd's default open-files limit, lowered to the hard limit this process has. */
    static final long DEFAULT_NOFILE = 1048576;

    static final List<String> MASKED_PATHS = List.of("/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
            "/sys/firmware", "/sys/devices/virtual/powercap");
    static final List<String> READONLY_PATHS = List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
            "/proc/sysrq-trigger");

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNode SECCOMP_PROFILE = loadProfile();

    private final CgroupLayout cgroups;
    private final boolean swapAccounting;

    OciSpecWriter(CgroupLayout cgroups, boolean swapAccounting) {
        this.cgroups = cgroups;
        this.swapAccounting = swapAccounting;
    }

    /** For this host. */
    static OciSpecWriter forHost() {
        CgroupLayout layout = CgroupLayout.detect();
        boolean swap = layout == CgroupLayout.UNIFIED
                || Files.exists(CgroupLayout.ROOT.resolve("memory/memory.memsw.limit_in_bytes"));
        return new OciSpecWriter(layout, swap);
    }

    /**
     * The config.json for container {@code id}; the {@code /etc} files it mounts must be in {@code etcDir}
     * ({@link #writeEtcFiles}).
     *
     * @throws IllegalArgumentException for input that cannot run: no rootfs, no command, an unknown user, group or
     *                                  capability, a relative mount destination, a bad seccomp profile
     */
    ObjectNode configFor(String id, RuntimeSpec spec, Path etcDir) throws IOException {
        if (spec.rootfs() == null || !Files.isDirectory(spec.rootfs())) {
            throw new IllegalArgumentException("rootfs " + spec.rootfs() + " is not a directory");
        }
        RuntimeSpec.Process process = spec.process();
        if (process == null || process.args() == null || process.args().isEmpty()) {
            throw new IllegalArgumentException("no command specified");
        }
        ObjectNode config = JSON.createObjectNode();
        config.put("ociVersion", "1.0.2");
        ObjectNode root = config.putObject("root");
        root.put("path", spec.rootfs().toAbsolutePath().toString());
        root.put("readonly", spec.readOnlyRootfs());
        config.put("hostname", spec.hostname());
        if (spec.domainname() != null && !spec.domainname().isEmpty()) {
            config.put("domainname", spec.domainname());
        }
        List<String> capabilities = Capabilities.of(spec.privileged(), process.capAdd(), process.capDrop());
        config.set("process", process(spec.rootfs(), process, spec.hostname(), capabilities));
        config.set("mounts", mounts(spec, etcDir));
        config.set("linux", linux(id, spec, capabilities));
        return config;
    }

    /** A process for {@code runtime exec} in a running container: the same rules as the container's own. */
    ObjectNode execProcess(RuntimeSpec.Process process, Path rootfs, String hostname, boolean privileged)
            throws IOException {
        List<String> capabilities = Capabilities.of(privileged, process.capAdd(), process.capDrop());
        return process(rootfs, process, hostname, capabilities);
    }

    /**
     * Writes {@code hosts}, {@code hostname} and {@code resolv.conf} into {@code etcDir}; in a user namespace they
     * belong to the container's root, as in Docker, so that it can edit them.
     */
    static void writeEtcFiles(RuntimeSpec spec, Path etcDir) throws IOException {
        Files.createDirectories(etcDir);
        Files.writeString(etcDir.resolve("hosts"), EtcFiles.hosts(spec));
        Files.writeString(etcDir.resolve("hostname"), EtcFiles.hostname(spec));
        Files.writeString(etcDir.resolve("resolv.conf"), EtcFiles.resolvConf(spec, EtcFiles.hostResolvConf()));
        IdMap users = spec.userNamespace();
        if (users != null) {
            for (String file : List.of("hosts", "hostname", "resolv.conf")) {
                Files.setAttribute(etcDir.resolve(file), "unix:uid", users.hostUid(0));
                Files.setAttribute(etcDir.resolve(file), "unix:gid", users.hostGid(0));
            }
        }
    }

    private ObjectNode process(Path rootfs, RuntimeSpec.Process process, String hostname, List<String> capabilities)
            throws IOException {
        ContainerUser user = ContainerUser.resolve(rootfs, process.user());
        ObjectNode node = JSON.createObjectNode();
        node.put("terminal", process.terminal());
        ObjectNode userNode = node.putObject("user");
        userNode.put("uid", user.uid());
        userNode.put("gid", user.gid());
        if (!user.additionalGids().isEmpty()) {
            ArrayNode gids = userNode.putArray("additionalGids");
            user.additionalGids().forEach(gids::add);
        }
        ArrayNode args = node.putArray("args");
        process.args().forEach(args::add);
        ArrayNode env = node.putArray("env");
        List<String> given = process.env() == null ? List.of() : process.env();
        if (given.stream().noneMatch(e -> e.startsWith("PATH="))) {
            env.add(DEFAULT_PATH);
        }
        if (hostname != null && given.stream().noneMatch(e -> e.startsWith("HOSTNAME="))) {
            env.add("HOSTNAME=" + hostname);
        }
        if (process.terminal() && given.stream().noneMatch(e -> e.startsWith("TERM="))) {
            env.add("TERM=xterm");
        }
        if (given.stream().noneMatch(e -> e.startsWith("HOME="))) {
            env.add("HOME=" + user.home());
        }
        given.forEach(env::add);
        String cwd = process.cwd() == null || process.cwd().isEmpty() ? "/" : process.cwd();
        if (!cwd.startsWith("/")) {
            throw new IllegalArgumentException("the working directory '" + cwd + "' is invalid: it needs to be an absolute path");
        }
        node.put("cwd", cwd);
        ObjectNode caps = node.putObject("capabilities");
        for (String set : List.of("bounding", "effective", "permitted")) {
            ArrayNode array = caps.putArray(set);
            capabilities.forEach(array::add);
        }
        node.put("noNewPrivileges", process.noNewPrivileges());
        ArrayNode rlimits = node.putArray("rlimits");
        long nofile = Math.min(DEFAULT_NOFILE, HostLimits.hard("Max open files").orElse(DEFAULT_NOFILE));
        ObjectNode limit = rlimits.addObject();
        limit.put("type", "RLIMIT_NOFILE");
        limit.put("hard", nofile);
        limit.put("soft", nofile);
        return node;
    }

    private ArrayNode mounts(RuntimeSpec spec, Path etcDir) {
        ArrayNode mounts = JSON.createArrayNode();
        long shm = spec.shmSize() > 0 ? spec.shmSize() : DEFAULT_SHM_SIZE;
        mount(mounts, "/proc", "proc", "proc", "nosuid", "noexec", "nodev");
        mount(mounts, "/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k");
        mount(mounts, "/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
                "gid=5");
        mount(mounts, "/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", spec.privileged() ? "rw" : "ro");
        mount(mounts, "/sys/fs/cgroup", "cgroup", "cgroup", "nosuid", "noexec", "nodev", "relatime",
                spec.privileged() ? "rw" : "ro");
        mount(mounts, "/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev");
        mount(mounts, "/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=" + shm);
        for (String file : List.of("hosts", "hostname", "resolv.conf")) {
            mount(mounts, "/etc/" + file, "bind", etcDir.resolve(file).toString(), "rbind", "rprivate");
        }
        for (RuntimeSpec.Mount extra : spec.mounts() == null ? List.<RuntimeSpec.Mount>of() : spec.mounts()) {
            if (extra.destination() == null || !extra.destination().startsWith("/")) {
                throw new IllegalArgumentException("invalid mount destination '" + extra.destination()
                        + "': it must be an absolute path");
            }
            List<String> options = new ArrayList<>(extra.options() == null ? List.of() : extra.options());
            if (extra.type().equals("bind")) {
                if (extra.source() == null || !Files.exists(Path.of(extra.source()))) {
                    throw new IllegalArgumentException("invalid mount config: bind source path does not exist: "
                            + extra.source());
                }
                if (!options.contains("bind") && !options.contains("rbind")) {
                    options.add("rbind");
                }
            }
            mount(mounts, extra.destination(), extra.type(), extra.source() == null ? extra.type() : extra.source(),
                    options.toArray(String[]::new));
        }
        return mounts;
    }

    private static void mount(ArrayNode mounts, String destination, String type, String source, String... options) {
        ObjectNode mount = mounts.addObject();
        mount.put("destination", destination);
        mount.put("type", type);
        mount.put("source", source);
        ArrayNode array = mount.putArray("options");
        for (String option : options) {
            array.add(option);
        }
    }

    private ObjectNode linux(String id, RuntimeSpec spec, List<String> capabilities) throws IOException {
        ObjectNode linux = JSON.createObjectNode();
        linux.put("cgroupsPath", CgroupLayout.pathOf(id));
        ArrayNode namespaces = linux.putArray("namespaces");
        for (String type : List.of("pid", "mount", "uts", "ipc")) {
            namespaces.addObject().put("type", type);
        }
        if (cgroups == CgroupLayout.UNIFIED) {
            namespaces.addObject().put("type", "cgroup"); // Docker's "private" cgroupns default on v2
        }
        IdMap users = spec.userNamespace();
        if (users != null) {
            namespaces.addObject().put("type", "user");
            linux.set("uidMappings", mappings(users.uids()));
            linux.set("gidMappings", mappings(users.gids()));
        }
        String network = spec.networkNamespace();
        if (network == null || network.isEmpty()) {
            namespaces.addObject().put("type", "network");
        } else if (!network.equals("host")) {
            // a /proc/PID/ns/net link names no file; it exists if the link does
            if (!Files.exists(Path.of(network), LinkOption.NOFOLLOW_LINKS)) {
                throw new IllegalArgumentException("network namespace " + network + " does not exist");
            }
            namespaces.addObject().put("type", "network").put("path", network);
        }
        linux.set("resources", resources(spec));
        if (spec.privileged()) {
            linux.set("devices", HostDevices.list());
        }
        if (spec.sysctls() != null && !spec.sysctls().isEmpty()) {
            ObjectNode sysctl = linux.putObject("sysctl");
            spec.sysctls().forEach(sysctl::put);
        }
        if (!spec.privileged()) {
            ArrayNode masked = linux.putArray("maskedPaths");
            MASKED_PATHS.forEach(masked::add);
            ArrayNode readonly = linux.putArray("readonlyPaths");
            READONLY_PATHS.forEach(readonly::add);
            JsonNode seccomp = seccomp(spec.seccomp(), capabilities);
            if (seccomp != null) {
                linux.set("seccomp", seccomp);
            }
        }
        return linux;
    }

    private static ArrayNode mappings(List<IdMap.Range> ranges) {
        ArrayNode array = JSON.createArrayNode();
        for (IdMap.Range range : ranges) {
            array.addObject().put("containerID", range.containerId()).put("hostID", range.hostId())
                    .put("size", range.size());
        }
        return array;
    }

    private ObjectNode resources(RuntimeSpec spec) {
        RuntimeSpec.Resources limits = spec.resources() == null ? RuntimeSpec.Resources.NONE : spec.resources();
        ObjectNode resources = JSON.createObjectNode();
        ArrayNode devices = resources.putArray("devices");
        if (spec.privileged()) {
            devices.addObject().put("allow", true).put("access", "rwm");
        } else {
            devices.addObject().put("allow", false).put("access", "rwm");
            // Docker's default device rules: null, zero, full, random, urandom, tty, console, ptmx, pts/*, and mknod
            // of any character or block device (using one still needs an allow rule).
            device(devices, "c", null, null, "m");
            device(devices, "b", null, null, "m");
            device(devices, "c", 1L, 3L, "rwm");
            device(devices, "c", 1L, 5L, "rwm");
            device(devices, "c", 1L, 7L, "rwm");
            device(devices, "c", 1L, 8L, "rwm");
            device(devices, "c", 1L, 9L, "rwm");
            device(devices, "c", 5L, 0L, "rwm");
            device(devices, "c", 5L, 1L, "rwm");
            device(devices, "c", 5L, 2L, "rwm");
            device(devices, "c", 136L, null, "rwm");
            device(devices, "c", 10L, 200L, "rwm");
        }
        resources.setAll(limits(limits));
        return resources;
    }

    /** The memory, cpu and pids part of the OCI {@code resources}: what {@code RUNTIME update --resources} takes. */
    ObjectNode limits(RuntimeSpec.Resources limits) {
        ObjectNode resources = JSON.createObjectNode();
        if (limits.memory() < 0 || limits.nanoCpus() < 0 || limits.cpuShares() < 0 || limits.pidsLimit() < 0) {
            throw new IllegalArgumentException("resource limits cannot be negative: " + limits);
        }
        if (limits.memory() > 0) {
            if (limits.memory() < 6 * 1024 * 1024) {
                throw new IllegalArgumentException("minimum memory limit allowed is 6MB");
            }
            ObjectNode memory = resources.putObject("memory");
            memory.put("limit", limits.memory());
            if (swapAccounting) {
                long swap = limits.memorySwap() == 0 ? 2 * limits.memory() : limits.memorySwap();
                if (swap > 0 && swap < limits.memory()) {
                    throw new IllegalArgumentException(
                            "minimum memoryswap limit should be larger than memory limit, see usage");
                }
                memory.put("swap", swap);
            }
        }
        if (limits.nanoCpus() > 0 || limits.cpuShares() > 0) {
            ObjectNode cpu = resources.putObject("cpu");
            if (limits.cpuShares() > 0) {
                cpu.put("shares", limits.cpuShares());
            }
            if (limits.nanoCpus() > 0) {
                long period = 100_000;
                cpu.put("period", period);
                cpu.put("quota", limits.nanoCpus() * period / 1_000_000_000L);
            }
        }
        if (limits.pidsLimit() > 0) {
            resources.putObject("pids").put("limit", limits.pidsLimit());
        }
        return resources;
    }

    private static void device(ArrayNode devices, String type, Long major, Long minor, String access) {
        ObjectNode rule = devices.addObject().put("allow", true).put("type", type).put("access", access);
        if (major != null) {
            rule.put("major", major);
        }
        if (minor != null) {
            rule.put("minor", minor);
        }
    }

    /** The seccomp section: berth's default profile for the container's capabilities, none, or the given one. */
    private static JsonNode seccomp(String seccomp, List<String> capabilities) throws IOException {
        if (seccomp == null || seccomp.isEmpty()) {
            ObjectNode profile = SECCOMP_PROFILE.deepCopy();
            ArrayNode rules = profile.putArray("syscalls");
            for (JsonNode rule : SECCOMP_PROFILE.get("syscalls")) {
                JsonNode needs = rule.get("berth.whenCapability");
                if (needs == null) {
                    rules.add(rule);
                } else if (capabilities.contains(needs.asText())) {
                    rules.add(((ObjectNode) rule.deepCopy()).without("berth.whenCapability"));
                }
            }
            return profile;
        }
        if (seccomp.equals("unconfined")) {
            return null;
        }
        try {
            JsonNode profile = JSON.readTree(seccomp);
            if (!profile.isObject() || !profile.has("defaultAction")) {
                throw new IllegalArgumentException("the seccomp profile has no defaultAction");
            }
            return profile;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("the seccomp profile is not JSON: " + e.getOriginalMessage());
        }
    }

    private static JsonNode loadProfile() {
        try (InputStream in = OciSpecWriter.class.getResourceAsStream("seccomp-default.json")) {
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException("berth's seccomp profile cannot be read", e);
        }
    }

}
