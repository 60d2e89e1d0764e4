package io.berth.spi.containers;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/**
 * How a container runs on this host, shaped and named as the Docker Engine API's {@code HostConfig}. Sizes are
 * bytes, 0 means unlimited or the default; null lists and maps mean none. {@code Runtime} names the container
 * runtime ({@code --runtime}); null gives the default one, and inspect shows the one used. {@code UsernsMode}
 * ({@code --userns}) is empty for the daemon's setting (daemon.json {@code userns-remap}) or {@code host} for the
 * host's user namespace.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record HostConfig(
        @JsonProperty("Binds") List<String> binds,
        @JsonProperty("NetworkMode") String networkMode,
        @JsonProperty("PortBindings") Map<String, List<PortBinding>> portBindings,
        @JsonProperty("RestartPolicy") RestartPolicy restartPolicy,
        @JsonProperty("AutoRemove") boolean autoRemove,
        @JsonProperty("Mounts") List<MountRequest> mounts,
        @JsonProperty("CapAdd") List<String> capAdd,
        @JsonProperty("CapDrop") List<String> capDrop,
        @JsonProperty("Dns") List<String> dns,
        @JsonProperty("DnsOptions") List<String> dnsOptions,
        @JsonProperty("DnsSearch") List<String> dnsSearch,
        @JsonProperty("ExtraHosts") List<String> extraHosts,
        @JsonProperty("Privileged") boolean privileged,
        @JsonProperty("PublishAllPorts") boolean publishAllPorts,
        @JsonProperty("ReadonlyRootfs") boolean readonlyRootfs,
        @JsonProperty("SecurityOpt") List<String> securityOpt,
        @JsonProperty("Tmpfs") Map<String, String> tmpfs,
        @JsonProperty("ShmSize") long shmSize,
        @JsonProperty("Sysctls") Map<String, String> sysctls,
        @JsonProperty("Memory") long memory,
        @JsonProperty("MemorySwap") long memorySwap,
        @JsonProperty("NanoCpus") long nanoCpus,
        @JsonProperty("CpuShares") long cpuShares,
        @JsonProperty("PidsLimit") Long pidsLimit,
        @JsonProperty("Runtime") String runtime,
        @JsonProperty("UsernsMode") String usernsMode) {

    /** A host config with the daemon's user namespace setting ({@code UsernsMode} empty). */
    public HostConfig(List<String> binds, String networkMode, Map<String, List<PortBinding>> portBindings,
                      RestartPolicy restartPolicy, boolean autoRemove, List<MountRequest> mounts, List<String> capAdd,
                      List<String> capDrop, List<String> dns, List<String> dnsOptions, List<String> dnsSearch,
                      List<String> extraHosts, boolean privileged, boolean publishAllPorts, boolean readonlyRootfs,
                      List<String> securityOpt, Map<String, String> tmpfs, long shmSize, Map<String, String> sysctls,
                      long memory, long memorySwap, long nanoCpus, long cpuShares, Long pidsLimit, String runtime) {
        this(binds, networkMode, portBindings, restartPolicy, autoRemove, mounts, capAdd, capDrop, dns, dnsOptions,
                dnsSearch, extraHosts, privileged, publishAllPorts, readonlyRootfs, securityOpt, tmpfs, shmSize,
                sysctls, memory, memorySwap, nanoCpus, cpuShares, pidsLimit, runtime, null);
    }

    /** A published port: {@code -p [HostIp:]HostPort:containerPort}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record PortBinding(@JsonProperty("HostIp") String hostIp, @JsonProperty("HostPort") String hostPort) {
    }

    /**
     * {@code --restart}: {@code Name} is empty or {@code no}, {@code always}, {@code unless-stopped} or
     * {@code on-failure} (then {@code MaximumRetryCount}, 0 for no limit).
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record RestartPolicy(@JsonProperty("Name") String name,
                                @JsonProperty("MaximumRetryCount") int maximumRetryCount) {
    }

    /**
     * One {@code --mount}: {@code Type} is {@code volume}, {@code bind} or {@code tmpfs}; {@code Source} a volume
     * name (empty for an anonymous volume) or a host path; {@code Target} the path in the container.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record MountRequest(@JsonProperty("Type") String type,
                               @JsonProperty("Source") String source,
                               @JsonProperty("Target") String target,
                               @JsonProperty("ReadOnly") boolean readOnly,
                               @JsonProperty("VolumeOptions") VolumeOptions volumeOptions,
                               @JsonProperty("TmpfsOptions") TmpfsOptions tmpfsOptions) {
    }

    /** {@code volume-nocopy}: whether a new empty volume is not filled from the image. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record VolumeOptions(@JsonProperty("NoCopy") boolean noCopy,
                                @JsonProperty("Labels") Map<String, String> labels) {
    }

    /** {@code tmpfs-size} (bytes) and {@code tmpfs-mode} (octal permission bits as a number). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record TmpfsOptions(@JsonProperty("SizeBytes") long sizeBytes, @JsonProperty("Mode") int mode) {
    }
}
