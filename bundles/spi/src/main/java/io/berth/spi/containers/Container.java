package io.berth.spi.containers;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * A container as {@code docker inspect} shows it, with the Engine API's names. {@code Config} is the
 * effective configuration (the image's values merged in), as Docker reports it.
 *
 * @param id           64 hex digits
 * @param created      RFC 3339 time with nanoseconds
 * @param path         the command that runs (the entrypoint's or command's first word)
 * @param args         its arguments
 * @param state        what it is doing
 * @param image        the image's id ({@code sha256:...})
 * @param name         {@code /name}, as Docker writes it
 * @param restartCount how often its restart policy restarted it
 * @param driver       the storage driver holding its read-write layer
 * @param logPath      its log file
 * @param mounts       its volumes, binds and tmpfs mounts
 * @param config       the effective configuration
 * @param hostConfig   the host configuration it was created with
 * @param networkSettings its network while it runs: address, published ports, networks (empty otherwise)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Container(
        @JsonProperty("Id") String id,
        @JsonProperty("Created") String created,
        @JsonProperty("Path") String path,
        @JsonProperty("Args") List<String> args,
        @JsonProperty("State") State state,
        @JsonProperty("Image") String image,
        @JsonProperty("Name") String name,
        @JsonProperty("RestartCount") int restartCount,
        @JsonProperty("Driver") String driver,
        @JsonProperty("LogPath") String logPath,
        @JsonProperty("Mounts") List<MountPoint> mounts,
        @JsonProperty("Config") ContainerConfig config,
        @JsonProperty("HostConfig") HostConfig hostConfig,
        @JsonProperty("NetworkSettings") NetworkSettings networkSettings) {

    /** A container without network settings (created, or on no network of berth's). */
    public Container(String id, String created, String path, List<String> args, State state, String image,
                     String name, int restartCount, String driver, String logPath, List<MountPoint> mounts,
                     ContainerConfig config, HostConfig hostConfig) {
        this(id, created, path, args, state, image, name, restartCount, driver, logPath, mounts, config, hostConfig,
                NetworkSettings.NONE);
    }

    /** This container with other network settings. */
    public Container withNetworkSettings(NetworkSettings settings) {
        return new Container(id, created, path, args, state, image, name, restartCount, driver, logPath, mounts,
                config, hostConfig, settings);
    }

    /**
     * {@code NetworkSettings}: the primary network's address (the top-level fields, as Docker still fills them for
     * the default bridge and the network a container was started on), its published ports by container port
     * ({@code "80/tcp"}), the namespace ({@code SandboxKey}) and every network it is on.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record NetworkSettings(@JsonProperty("SandboxKey") String sandboxKey,
                                  @JsonProperty("Ports") java.util.Map<String, List<HostConfig.PortBinding>> ports,
                                  @JsonProperty("IPAddress") String ipAddress,
                                  @JsonProperty("IPPrefixLen") int ipPrefixLen,
                                  @JsonProperty("Gateway") String gateway,
                                  @JsonProperty("MacAddress") String macAddress,
                                  @JsonProperty("Networks") java.util.Map<String, EndpointSettings> networks) {

        /** The PORTS column of {@code docker ps}: {@code 0.0.0.0:18080->80/tcp, ...}. */
        public String describePorts() {
            List<String> published = new java.util.ArrayList<>();
            if (ports != null) {
                ports.forEach((port, bindings) -> {
                    for (HostConfig.PortBinding binding : bindings == null ? List.<HostConfig.PortBinding>of()
                            : bindings) {
                        published.add(binding.hostIp() + ":" + binding.hostPort() + "->" + port);
                    }
                });
            }
            return String.join(", ", published);
        }

        /**
         * What stays of these settings while the container does not run: each network with its id and aliases only
         * (the addresses and ports go with the endpoints), as {@code docker inspect} shows a stopped container; the
         * next start joins them all again.
         */
        public NetworkSettings declared() {
            java.util.Map<String, EndpointSettings> declared = new java.util.TreeMap<>();
            if (networks != null) {
                networks.forEach((name, endpoint) -> declared.put(name, new EndpointSettings(
                        endpoint.networkId() == null ? "" : endpoint.networkId(), "", "", "", 0, "",
                        endpoint.aliases() == null ? List.of() : endpoint.aliases())));
            }
            return declared.isEmpty() ? NONE : new NetworkSettings("", java.util.Map.of(), "", 0, "", "", declared);
        }

        /** Not on any network of berth's. */
        public static final NetworkSettings NONE = new NetworkSettings("", java.util.Map.of(), "", 0, "", "",
                java.util.Map.of());
    }

    /** One network a container is on. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record EndpointSettings(@JsonProperty("NetworkID") String networkId,
                                   @JsonProperty("EndpointID") String endpointId,
                                   @JsonProperty("Gateway") String gateway,
                                   @JsonProperty("IPAddress") String ipAddress,
                                   @JsonProperty("IPPrefixLen") int ipPrefixLen,
                                   @JsonProperty("MacAddress") String macAddress,
                                   @JsonProperty("Aliases") List<String> aliases) {
    }

    /**
     * {@code State}: {@code Status} is one of {@code created}, {@code running}, {@code paused},
     * {@code restarting}, {@code removing}, {@code exited}, {@code dead}; times are RFC 3339 with nanoseconds,
     * {@code 0001-01-01T00:00:00Z} when it never happened.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record State(@JsonProperty("Status") String status,
                        @JsonProperty("Running") boolean running,
                        @JsonProperty("Paused") boolean paused,
                        @JsonProperty("Restarting") boolean restarting,
                        @JsonProperty("OOMKilled") boolean oomKilled,
                        @JsonProperty("Dead") boolean dead,
                        @JsonProperty("Pid") long pid,
                        @JsonProperty("ExitCode") int exitCode,
                        @JsonProperty("Error") String error,
                        @JsonProperty("StartedAt") String startedAt,
                        @JsonProperty("FinishedAt") String finishedAt) {

        /** The STATUS column of {@code docker ps}: "Up 5 minutes", "Exited (0) 3 seconds ago", "Created", ... */
        public String describe(java.time.Instant now) {
            return switch (status) {
                case "running" -> "Up " + HumanTime.since(startedAt, now);
                case "paused" -> "Up " + HumanTime.since(startedAt, now) + " (Paused)";
                case "restarting" -> "Restarting (" + exitCode + ") " + HumanTime.ago(finishedAt, now);
                case "exited" -> "Exited (" + exitCode + ") " + HumanTime.ago(finishedAt, now);
                case "removing" -> "Removal In Progress";
                case "dead" -> "Dead";
                default -> "Created";
            };
        }
    }

    /** One entry of {@code Mounts}: {@code Type} is {@code volume}, {@code bind} or {@code tmpfs}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record MountPoint(@JsonProperty("Type") String type,
                             @JsonProperty("Name") String name,
                             @JsonProperty("Source") String source,
                             @JsonProperty("Destination") String destination,
                             @JsonProperty("Driver") String driver,
                             @JsonProperty("Mode") String mode,
                             @JsonProperty("RW") boolean rw,
                             @JsonProperty("Propagation") String propagation) {
    }

    /** Its command line: {@code Path} and then {@code Args}. */
    public java.util.List<String> commandLine() {
        java.util.List<String> words = new java.util.ArrayList<>();
        if (path != null && !path.isEmpty()) {
            words.add(path);
        }
        if (args != null) {
            words.addAll(args);
        }
        return words;
    }

    /** The name without Docker's leading slash. */
    public String shortName() {
        return name.startsWith("/") ? name.substring(1) : name;
    }
}
