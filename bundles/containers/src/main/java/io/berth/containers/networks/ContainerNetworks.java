package io.berth.containers.networks;

import io.berth.spi.containers.Container;
import io.berth.spi.containers.HostConfig;
import io.berth.spi.network.Endpoint;
import io.berth.spi.network.NetworkResource;
import io.berth.spi.network.PortMapping;
import io.berth.storage.support.Commands;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TreeMap;

/**
 * A container's network at start and after its exit, as dockerd's sandbox: a network namespace of its own made
 * before the runtime creates the container ({@code ip netns add berth-ID}, so it outlives the daemon and is found
 * again by name), joined to its network through the registry, with its published ports; the runtime is then told
 * to use that namespace. {@code none} gets a namespace of the runtime's own (loopback only), {@code host} the
 * host's, {@code container:NAME} the other container's.
 */
public final class ContainerNetworks {

    /** Where {@code ip netns} keeps named namespaces. */
    static final Path NETNS_DIR = Path.of("/run/netns");
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

    /**
     * What the runtime needs: the namespace ({@code null} for a new one of its own, {@code host}, or a path) and
     * the lines for {@code /etc/hosts} beyond localhost; and what inspect shows of it.
     */
    public record Joined(String networkNamespace, List<String> hosts, Container.NetworkSettings settings) {
        Joined(String networkNamespace) {
            this(networkNamespace, List.of(), Container.NetworkSettings.NONE);
        }
    }

    private final NetworkRegistry registry;

    public ContainerNetworks(NetworkRegistry registry) {
        this.registry = registry;
    }

    /**
     * The network settings a new container starts with: its aliases on its user network (Docker refuses aliases
     * anywhere else).
     */
    public static Container.NetworkSettings declared(HostConfig host, Map<String, List<String>> aliases) {
        Map<String, Container.EndpointSettings> networks = new TreeMap<>();
        for (Map.Entry<String, List<String>> entry : (aliases == null ? Map.<String, List<String>>of() : aliases)
                .entrySet()) {
            if (entry.getValue() == null || entry.getValue().isEmpty()) {
                continue;
            }
            if (!isUserNetwork(mode(host)) || !entry.getKey().equals(mode(host))) {
                throw new IllegalArgumentException("network-scoped alias is supported only for containers in user"
                        + " defined networks");
            }
            networks.put(entry.getKey(), new Container.EndpointSettings("", "", "", "", 0, "",
                    List.copyOf(entry.getValue())));
        }
        return networks.isEmpty() ? Container.NetworkSettings.NONE
                : new Container.NetworkSettings("", Map.of(), "", 0, "", "", networks);
    }

    /**
     * Refuses, at create, a network mode that names no network, with Docker's words ("network X not found"). Bad
     * input (400), not a missing resource (404): the docker CLI takes a 404 from create for a missing image and
     * would go pulling it. dockerd refuses only at start and leaves a created container behind; refusing here
     * leaves nothing.
     */
    public void validate(HostConfig host) throws IOException {
        String mode = mode(host);
        if (isUserNetwork(mode)) {
            try {
                registry.inspect(mode);
            } catch (NoSuchElementException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }
    }

    /**
     * Joins a container about to start.
     *
     * @param otherPid the pid of the container named by {@code container:NAME}, or 0
     */
    public Joined join(Container c, long otherPid) throws IOException {
        HostConfig host = c.hostConfig();
        String mode = mode(host);
        if (mode.equals("host")) {
            return new Joined("host");
        }
        if (mode.equals("none")) {
            return new Joined(null);
        }
        if (mode.startsWith("container:")) {
            if (otherPid <= 0) {
                throw new IllegalStateException("cannot join the network of " + mode.substring("container:".length())
                        + ": it is not running");
            }
            return new Joined("/proc/" + otherPid + "/ns/net");
        }
        String network = mode.equals("bridge") || mode.equals("default") ? "bridge" : mode;
        if (network.equals("bridge") && !exists("bridge")) {
            return new Joined(null); // bridge networking is off (daemon.json "bridge": "none")
        }
        Path netns = namespace(c.id());
        List<String> aliases = declaredAliases(c, network);
        List<String> joined = new ArrayList<>();
        try {
            Endpoint endpoint = registry.connect(network, c.id(), c.shortName(), netns, aliases, ports(c));
            joined.add(network);
            // names resolve on user networks only, as in Docker
            List<String> hosts = new ArrayList<>(network.equals("bridge")
                    ? List.of(endpoint.ipv4() + "\t" + c.config().hostname())
                    : hostsOnNetwork(network, endpoint.ipv4(), c.config().hostname()));
            Container.NetworkSettings settings = settings(registry.inspect(network), endpoint, netns, aliases);
            Map<String, Container.EndpointSettings> networks = new TreeMap<>(settings.networks());
            // the networks it was connected to while stopped (or before it stopped): eth1, eth2, ...
            for (String more : recordedNetworks(c)) {
                if (networks.containsKey(more)) {
                    continue;
                }
                NetworkResource resource = registry.inspect(more); // gone: the start fails, as with dockerd
                List<String> moreAliases = declaredAliases(c, more);
                Endpoint extra = registry.connect(resource.name(), c.id(), c.shortName(), netns, moreAliases,
                        List.of());
                joined.add(resource.name());
                networks.put(resource.name(), endpointSettings(resource, extra, moreAliases));
                if (!resource.name().equals("bridge")) {
                    hosts.addAll(hostsOnNetwork(resource.name(), extra.ipv4(), c.config().hostname()));
                }
            }
            return new Joined(netns.toString(), hosts.stream().distinct().toList(), new Container.NetworkSettings(
                    settings.sandboxKey(), settings.ports(), settings.ipAddress(), settings.ipPrefixLen(),
                    settings.gateway(), settings.macAddress(), networks));
        } catch (IOException | RuntimeException e) {
            for (String network1 : joined) {
                try {
                    registry.disconnect(network1, c.id());
                } catch (IOException | RuntimeException again) {
                    e.addSuppressed(again);
                }
            }
            deleteNamespace(c.id());
            throw e;
        }
    }

    /** The networks a container's settings name, in order: those it joins at start beside its {@code --network}. */
    private static List<String> recordedNetworks(Container c) {
        return c.networkSettings() == null ? List.of() : List.copyOf(c.networkSettings().networks().keySet());
    }

    private static Container.EndpointSettings endpointSettings(NetworkResource network, Endpoint endpoint,
                                                               List<String> aliases) {
        return new Container.EndpointSettings(network.id(), endpoint.endpointId(), endpoint.gateway(),
                endpoint.ipv4(), prefixLength(endpoint), endpoint.macAddress(),
                aliases == null ? List.of() : List.copyOf(aliases));
    }

    private static int prefixLength(Endpoint endpoint) {
        int slash = endpoint.ipv4Address().indexOf('/');
        return slash > 0 ? Integer.parseInt(endpoint.ipv4Address().substring(slash + 1)) : 0;
    }

    /** What {@code docker inspect} shows under NetworkSettings for an endpoint. */
    /** The aliases a container was created with on a network. */
    private static List<String> declaredAliases(Container c, String network) {
        if (c.networkSettings() == null || !c.networkSettings().networks().containsKey(network)) {
            return List.of();
        }
        List<String> aliases = c.networkSettings().networks().get(network).aliases();
        return aliases == null ? List.of() : aliases;
    }

    private static Container.NetworkSettings settings(NetworkResource network, Endpoint endpoint, Path netns,
                                                      List<String> aliases) {
        int prefix = prefixLength(endpoint);
        Map<String, List<HostConfig.PortBinding>> ports = new TreeMap<>();
        for (PortMapping port : endpoint.ports()) {
            ports.computeIfAbsent(port.containerPort() + "/" + port.protocol().label(), k -> new ArrayList<>())
                    .add(new HostConfig.PortBinding(port.hostIp(), Integer.toString(port.hostPort())));
        }
        Container.EndpointSettings settings = endpointSettings(network, endpoint, aliases);
        return new Container.NetworkSettings(netns.toString(), ports, endpoint.ipv4(), prefix, endpoint.gateway(),
                endpoint.macAddress(), Map.of(network.name(), settings));
    }

    /**
     * The {@code /etc/hosts} lines of a container on a user network: its own address and hostname, then the other
     * containers' addresses with their names.
     */
    public List<String> hostsOnNetwork(String network, String ownAddress, String hostname) throws IOException {
        List<String> hosts = new ArrayList<>();
        hosts.add(ownAddress + "\t" + hostname);
        for (Map.Entry<String, List<String>> peer : registry.namesByAddress(network).entrySet()) {
            if (!peer.getKey().equals(ownAddress)) {
                hosts.add(peer.getKey() + "\t" + String.join(" ", peer.getValue()));
            }
        }
        return hosts;
    }

    /**
     * Connects a running container to one more network, in the namespace it runs in.
     *
     * @return its network settings with the new network
     */
    public Container.NetworkSettings connect(Container c, long pid, String network, List<String> aliases)
            throws IOException {
        String mode = mode(c.hostConfig());
        if (mode.equals("host") || mode.startsWith("container:")) {
            throw new IllegalStateException("container " + c.shortName() + " shares another network namespace ("
                    + mode + ") and cannot be connected to a network");
        }
        Container.NetworkSettings settings = c.networkSettings() == null ? Container.NetworkSettings.NONE
                : c.networkSettings();
        NetworkResource resource = registry.inspect(network);
        if (settings.networks().containsKey(resource.name())) {
            throw new IllegalStateException("endpoint with name " + c.shortName() + " already exists in network "
                    + resource.name());
        }
        Path netns = settings.sandboxKey().isEmpty() ? Path.of("/proc/" + pid + "/ns/net")
                : Path.of(settings.sandboxKey());
        Endpoint endpoint = registry.connect(resource.name(), c.id(), c.shortName(), netns, aliases, List.of());
        Map<String, Container.EndpointSettings> networks = new TreeMap<>(settings.networks());
        networks.put(resource.name(), endpointSettings(resource, endpoint, aliases));
        return new Container.NetworkSettings(settings.sandboxKey(), settings.ports(), settings.ipAddress(),
                settings.ipPrefixLen(), settings.gateway(), settings.macAddress(), networks);
    }

    /**
     * Records, for a container that does not run, one more network to join at its next start, as dockerd does;
     * inspect shows it with the network's id and the aliases, without an address until then.
     *
     * @return its network settings with the new network
     */
    public Container.NetworkSettings connectAtStart(Container c, String network, List<String> aliases)
            throws IOException {
        String mode = mode(c.hostConfig());
        if (mode.equals("host") || mode.equals("none") || mode.startsWith("container:")) {
            throw new IllegalStateException("container " + c.shortName() + " has network mode " + mode
                    + " and cannot be connected to a network");
        }
        Container.NetworkSettings settings = c.networkSettings() == null ? Container.NetworkSettings.NONE
                : c.networkSettings();
        NetworkResource resource = registry.inspect(network);
        if (settings.networks().containsKey(resource.name()) || resource.name().equals(primaryNetwork(mode))) {
            throw new IllegalStateException("endpoint with name " + c.shortName() + " already exists in network "
                    + resource.name());
        }
        Map<String, Container.EndpointSettings> networks = new TreeMap<>(settings.networks());
        networks.put(resource.name(), new Container.EndpointSettings(resource.id(), "", "", "", 0, "",
                aliases == null ? List.of() : List.copyOf(aliases)));
        return new Container.NetworkSettings(settings.sandboxKey(), settings.ports(), settings.ipAddress(),
                settings.ipPrefixLen(), settings.gateway(), settings.macAddress(), networks);
    }

    /**
     * Takes a network a stopped container would join at its next start off its settings. Its {@code --network}
     * stays: the next start would join it again.
     */
    public Container.NetworkSettings disconnectAtStart(Container c, String network) throws IOException {
        NetworkResource resource = registry.inspect(network);
        if (resource.name().equals(primaryNetwork(mode(c.hostConfig())))) {
            throw new IllegalStateException("container " + c.shortName() + " was created on network "
                    + resource.name() + " and joins it at every start; only networks connected later can be"
                    + " disconnected while it is stopped");
        }
        return disconnect(c, network);
    }

    /** The network a container's {@code --network} joins at start, or {@code ""} for host, none and container:. */
    private static String primaryNetwork(String mode) {
        if (mode.equals("default") || mode.equals("bridge")) {
            return "bridge";
        }
        return isUserNetwork(mode) ? mode : "";
    }

    /**
     * Takes a container off one network (a running one leaves it at once, a stopped one does not join it at its
     * next start); returns its network settings without it.
     */
    public Container.NetworkSettings disconnect(Container c, String network) throws IOException {
        Container.NetworkSettings settings = c.networkSettings() == null ? Container.NetworkSettings.NONE
                : c.networkSettings();
        NetworkResource resource = registry.inspect(network);
        if (!settings.networks().containsKey(resource.name())) {
            throw new IllegalStateException("container " + c.shortName() + " is not connected to network "
                    + resource.name());
        }
        registry.disconnect(resource.name(), c.id());
        Map<String, Container.EndpointSettings> networks = new TreeMap<>(settings.networks());
        networks.remove(resource.name());
        return new Container.NetworkSettings(settings.sandboxKey(), settings.ports(), settings.ipAddress(),
                settings.ipPrefixLen(), settings.gateway(), settings.macAddress(), networks);
    }

    /** Leaves every network the container is on and removes its namespace; what is already gone is skipped. */
    public void leave(Container c) throws IOException {
        java.util.Set<String> joined = new java.util.TreeSet<>();
        String mode = mode(c.hostConfig());
        if (!mode.equals("host") && !mode.equals("none") && !mode.startsWith("container:")) {
            joined.add(mode.equals("bridge") || mode.equals("default") ? "bridge" : mode);
        }
        if (c.networkSettings() != null) {
            joined.addAll(c.networkSettings().networks().keySet());
        }
        for (String network : joined) {
            if (exists(network)) {
                registry.disconnect(network, c.id());
            }
        }
        deleteNamespace(c.id());
    }

    /**
     * The user networks a container is on: its {@code --network} and those it was connected to; each with the
     * address it has there.
     */
    public static Map<String, String> userNetworks(Container c) {
        Map<String, String> networks = new TreeMap<>();
        if (c.networkSettings() != null) {
            c.networkSettings().networks().forEach((name, endpoint) -> {
                if (!List.of("bridge", "host", "none").contains(name)) {
                    networks.put(name, endpoint.ipAddress());
                }
            });
        }
        return networks;
    }

    private boolean exists(String network) throws IOException {
        try {
            registry.inspect(network);
            return true;
        } catch (NoSuchElementException e) {
            return false;
        }
    }

    /** {@code -p} (PortBindings) and {@code -P} (every ExposedPort to a free host port). */
    static List<PortMapping> ports(Container c) {
        List<PortMapping> ports = new ArrayList<>();
        Map<String, List<HostConfig.PortBinding>> bindings = c.hostConfig().portBindings();
        if (bindings != null) {
            for (Map.Entry<String, List<HostConfig.PortBinding>> binding : bindings.entrySet()) {
                for (HostConfig.PortBinding to : binding.getValue() == null ? List.<HostConfig.PortBinding>of()
                        : binding.getValue()) {
                    ports.add(mapping(binding.getKey(), to.hostIp(), to.hostPort()));
                }
            }
        }
        if (c.hostConfig().publishAllPorts() && c.config().exposedPorts() != null) {
            for (String exposed : c.config().exposedPorts().keySet()) {
                if (bindings == null || !bindings.containsKey(exposed)) {
                    ports.add(mapping(exposed, null, null));
                }
            }
        }
        return ports;
    }

    private static PortMapping mapping(String containerPort, String hostIp, String hostPort) {
        String[] parts = containerPort.split("/", 2);
        PortMapping.Protocol protocol = PortMapping.Protocol.parse(parts.length == 2 ? parts[1] : "tcp");
        int port;
        int published;
        try {
            port = Integer.parseInt(parts[0]);
            published = hostPort == null || hostPort.isEmpty() ? 0 : Integer.parseInt(hostPort);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid port " + containerPort + " -> " + hostPort);
        }
        return new PortMapping(protocol, hostIp, published, port);
    }

    private static String mode(HostConfig host) {
        return host.networkMode() == null || host.networkMode().isEmpty() ? "default" : host.networkMode();
    }

    private static boolean isUserNetwork(String mode) {
        return !List.of("default", "bridge", "none", "host").contains(mode) && !mode.startsWith("container:");
    }

    /** A new network namespace {@code /run/netns/berth-ID}; one left by an earlier run is replaced. */
    private static Path namespace(String id) throws IOException {
        deleteNamespace(id);
        Commands.check(List.of("ip", "netns", "add", name(id)), null, COMMAND_TIMEOUT);
        return NETNS_DIR.resolve(name(id));
    }

    private static void deleteNamespace(String id) throws IOException {
        if (Files.exists(NETNS_DIR.resolve(name(id)))) {
            Commands.check(List.of("ip", "netns", "delete", name(id)), null, COMMAND_TIMEOUT);
        }
    }

    private static String name(String id) {
        return "berth-" + id;
    }
}
