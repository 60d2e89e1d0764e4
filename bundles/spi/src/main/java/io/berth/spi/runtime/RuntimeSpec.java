package io.berth.spi.runtime;

import io.berth.spi.idmap.IdMap;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Everything a runtime needs to write a container's OCI bundle. The runtime adds what Docker adds to every
 * container: the namespaces, Docker's default capabilities and seccomp profile, masked and read-only paths,
 * {@code /dev}, {@code /proc}, {@code /sys}, {@code /dev/shm}, rlimits within the host's hard limits, and the
 * generated {@code /etc/hosts}, {@code /etc/hostname} and {@code /etc/resolv.conf}.
 *
 * @param rootfs           the mounted root filesystem
 * @param readOnlyRootfs   mount it read-only ({@code --read-only})
 * @param process          the container's init process
 * @param hostname         the container's hostname (also in {@code /etc/hostname} and {@code /etc/hosts})
 * @param domainname       its domain name, or empty
 * @param mounts           extra mounts (volumes, binds, tmpfs), in order
 * @param resources        cgroup limits
 * @param networkNamespace null for a new network namespace with loopback only, {@code "host"} for the host's,
 *                         or the path of an existing one ({@code /run/netns/X}, {@code /proc/PID/ns/net})
 * @param privileged       every capability, no seccomp, no masked paths, host devices ({@code --privileged})
 * @param seccomp          null for Docker's default profile, {@code "unconfined"}, or a profile as JSON
 * @param hosts            lines for {@code /etc/hosts} after the localhost ones ({@code "10.0.0.2\tweb"})
 * @param dns              name servers for {@code /etc/resolv.conf}; empty: the host's, without loopback ones
 * @param dnsSearch        search domains; empty: the host's when {@code dns} is empty
 * @param dnsOptions       resolver options; empty: the host's when {@code dns} is empty
 * @param sysctls          namespaced sysctls ({@code --sysctl})
 * @param shmSize          size of {@code /dev/shm} in bytes, 0 for Docker's 64 MiB
 * @param userNamespace    the mappings of a new user namespace, or null for none (the host's users); the
 *                         rootfs and the mounts must already be owned as the mapping needs
 */
public record RuntimeSpec(Path rootfs, boolean readOnlyRootfs, Process process, String hostname, String domainname,
                          List<Mount> mounts, Resources resources, String networkNamespace, boolean privileged,
                          String seccomp, List<String> hosts, List<String> dns, List<String> dnsSearch,
                          List<String> dnsOptions, Map<String, String> sysctls, long shmSize, IdMap userNamespace) {

    /** A spec without a user namespace. */
    public RuntimeSpec(Path rootfs, boolean readOnlyRootfs, Process process, String hostname, String domainname,
                       List<Mount> mounts, Resources resources, String networkNamespace, boolean privileged,
                       String seccomp, List<String> hosts, List<String> dns, List<String> dnsSearch,
                       List<String> dnsOptions, Map<String, String> sysctls, long shmSize) {
        this(rootfs, readOnlyRootfs, process, hostname, domainname, mounts, resources, networkNamespace, privileged,
                seccomp, hosts, dns, dnsSearch, dnsOptions, sysctls, shmSize, null);
    }

    /** This spec with another root filesystem (the same tree seen at another path). */
    public RuntimeSpec withRootfs(Path newRootfs) {
        return new RuntimeSpec(newRootfs, readOnlyRootfs, process, hostname, domainname, mounts, resources,
                networkNamespace, privileged, seccomp, hosts, dns, dnsSearch, dnsOptions, sysctls, shmSize,
                userNamespace);
    }

    /**
     * A process to run.
     *
     * @param args            the command and its arguments (the first is looked up in the container's PATH)
     * @param env             {@code NAME=value} entries; the runtime adds PATH and HOSTNAME when missing
     * @param cwd             the working directory, created if missing; empty for {@code /}
     * @param user            {@code uid[:gid]} or {@code name[:group]} looked up in the container's
     *                        {@code /etc/passwd} and {@code /etc/group}; empty for root
     * @param terminal        give it a TTY ({@code -t})
     * @param noNewPrivileges {@code --security-opt no-new-privileges}
     * @param capAdd          capabilities added to Docker's default set ({@code NET_ADMIN} or {@code CAP_NET_ADMIN},
     *                        {@code ALL})
     * @param capDrop         capabilities dropped from it
     */
    public record Process(List<String> args, List<String> env, String cwd, String user, boolean terminal,
                          boolean noNewPrivileges, List<String> capAdd, List<String> capDrop) {
    }

    /**
     * A mount in the container.
     *
     * @param destination the absolute path in the container
     * @param type        {@code bind} or {@code tmpfs} (or another filesystem type)
     * @param source      the host path for a bind, the type's source otherwise
     * @param options     mount options ({@code ro}, {@code rbind}, {@code nosuid}, {@code size=64m}, ...)
     */
    public record Mount(String destination, String type, String source, List<String> options) {
    }

    /**
     * cgroup limits; 0 means unlimited (or the default weight).
     *
     * @param memory      bytes ({@code --memory})
     * @param memorySwap  memory plus swap in bytes, -1 for unlimited swap ({@code --memory-swap})
     * @param nanoCpus    CPU quota in billionths of a CPU ({@code --cpus 1.5} is 1500000000)
     * @param cpuShares   relative weight ({@code --cpu-shares}, 1024 is the default)
     * @param pidsLimit   most processes and threads ({@code --pids-limit})
     */
    public record Resources(long memory, long memorySwap, long nanoCpus, long cpuShares, long pidsLimit) {

        /** No limits. */
        public static final Resources NONE = new Resources(0, 0, 0, 0, 0);
    }
}
