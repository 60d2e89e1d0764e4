package io.berth.containers;

import io.berth.containers.networks.ContainerNetworks;
import io.berth.spi.idmap.IdMap;
import io.berth.spi.containers.ContainerConfig;
import io.berth.spi.containers.HostConfig;
import io.berth.spi.runtime.RuntimeSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A container's {@link RuntimeSpec} from its effective configuration and host configuration, and the checks of a
 * host configuration at create, so that a container that is created can also be started.
 */
final class RuntimeSpecs {

    /** Docker's smallest memory limit. */
    static final long MIN_MEMORY = 6 * 1024 * 1024;

    private RuntimeSpecs() {
    }

    /** Refuses values Docker refuses, saying what is wrong. */
    static void validate(HostConfig host) {
        if (host.memory() < 0) {
            throw new IllegalArgumentException("invalid memory limit " + host.memory() + ": must not be negative");
        }
        if (host.memory() > 0 && host.memory() < MIN_MEMORY) {
            throw new IllegalArgumentException("Minimum memory limit allowed is 6MB");
        }
        if (host.memorySwap() < -1) {
            throw new IllegalArgumentException("invalid memory swap limit " + host.memorySwap()
                    + ": must be -1 (unlimited), 0 or more");
        }
        if (host.memorySwap() > 0 && host.memory() > 0 && host.memorySwap() < host.memory()) {
            throw new IllegalArgumentException(
                    "Minimum memoryswap limit should be larger than memory limit, see usage");
        }
        if (host.memorySwap() > 0 && host.memory() == 0) {
            throw new IllegalArgumentException(
                    "You should always set the Memory limit when using Memoryswap limit, see usage");
        }
        int cpus = Runtime.getRuntime().availableProcessors();
        if (host.nanoCpus() < 0 || host.nanoCpus() > cpus * 1_000_000_000L) {
            throw new IllegalArgumentException("Range of CPUs is from 0.01 to " + cpus + ".00, as there are only "
                    + cpus + " CPUs available");
        }
        if (host.cpuShares() < 0) {
            throw new IllegalArgumentException("invalid CPU shares " + host.cpuShares() + ": must not be negative");
        }
        if (host.shmSize() < 0) {
            throw new IllegalArgumentException("SHM size can not be less than 0");
        }
        String network = host.networkMode();
        if (network != null && network.startsWith("container:") && network.length() == "container:".length()) {
            throw new IllegalArgumentException("invalid network mode \"" + network + "\": container: needs a name");
        }
        for (String option : nonNull(host.securityOpt())) {
            if (!isNoNewPrivileges(option) && seccompOf(option) == null && !option.startsWith("label")
                    && !option.startsWith("apparmor")) {
                throw new IllegalArgumentException("invalid --security-opt: \"" + option + "\"");
            }
        }
        for (String extra : nonNull(host.extraHosts())) {
            hostsLine(extra);
        }
    }

    /** The limits a container runs with: its memory, swap, CPUs, CPU shares and pids limit (0: none). */
    static RuntimeSpec.Resources resources(HostConfig host) {
        return new RuntimeSpec.Resources(host.memory(), host.memorySwap(), host.nanoCpus(), host.cpuShares(),
                host.pidsLimit() == null || host.pidsLimit() < 0 ? 0 : host.pidsLimit());
    }

    /**
     * The spec that runs {@code command} of a container whose root filesystem is mounted at {@code rootfs}, with
     * the mounts its volumes, binds and tmpfs need (the volume planner's), in user namespace {@code userNamespace}
     * (null: none).
     */
    static RuntimeSpec build(ContainerConfig config, HostConfig host, List<String> command, Path rootfs,
                             List<RuntimeSpec.Mount> mounts, IdMap userNamespace) {
        return build(config, host, command, rootfs, mounts, userNamespace, null);
    }

    /** @param network the joined network namespace and its /etc/hosts lines, or null for the runtime's own */
    static RuntimeSpec build(ContainerConfig config, HostConfig host, List<String> command, Path rootfs,
                             List<RuntimeSpec.Mount> mounts, IdMap userNamespace, ContainerNetworks.Joined network) {
        List<String> securityOpt = nonNull(host.securityOpt());
        boolean noNewPrivileges = securityOpt.stream().anyMatch(RuntimeSpecs::isNoNewPrivileges)
                && securityOpt.stream().filter(RuntimeSpecs::isNoNewPrivileges).noneMatch(o -> o.endsWith("false"));
        String seccomp = securityOpt.stream().map(RuntimeSpecs::seccompOf).filter(s -> s != null)
                .reduce((first, second) -> second).orElse(null);
        RuntimeSpec.Process process = new RuntimeSpec.Process(List.copyOf(command), nonNull(config.env()),
                orEmpty(config.workingDir()), orEmpty(config.user()), config.tty(), noNewPrivileges,
                nonNull(host.capAdd()), nonNull(host.capDrop()));
        RuntimeSpec.Resources resources = resources(host);
        List<String> hosts = new ArrayList<>(network == null ? List.of() : network.hosts());
        for (String extra : nonNull(host.extraHosts())) {
            hosts.add(hostsLine(extra));
        }
        return new RuntimeSpec(rootfs, host.readonlyRootfs(), process, config.hostname(),
                orEmpty(config.domainname()), mounts, resources,
                network != null ? network.networkNamespace() : "host".equals(host.networkMode()) ? "host" : null,
                host.privileged(), seccomp, hosts,
                nonNull(host.dns()), nonNull(host.dnsSearch()), nonNull(host.dnsOptions()),
                host.sysctls() == null ? Map.of() : Map.copyOf(host.sysctls()), host.shmSize(), userNamespace);
    }

    /** {@code name:ip} (or {@code name=ip}) as an {@code /etc/hosts} line. */
    static String hostsLine(String extraHost) {
        int separator = extraHost.indexOf('=') > 0 ? extraHost.indexOf('=') : extraHost.indexOf(':');
        if (separator <= 0 || separator == extraHost.length() - 1) {
            throw new IllegalArgumentException("invalid extra host \"" + extraHost + "\": expected NAME:IP");
        }
        return extraHost.substring(separator + 1) + "\t" + extraHost.substring(0, separator);
    }

    private static boolean isNoNewPrivileges(String option) {
        return option.equals("no-new-privileges") || option.matches("no-new-privileges[:=](true|false)");
    }

    /** {@code unconfined} or a JSON profile for {@code seccomp=...} / {@code seccomp:...}, else null. */
    private static String seccompOf(String option) {
        if (option.startsWith("seccomp=") || option.startsWith("seccomp:")) {
            return option.substring("seccomp=".length());
        }
        return null;
    }

    private static String orEmpty(String text) {
        return text == null ? "" : text;
    }

    private static <T> List<T> nonNull(List<T> list) {
        return list == null ? List.of() : List.copyOf(list);
    }
}
