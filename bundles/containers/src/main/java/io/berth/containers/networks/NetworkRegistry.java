package io.berth.containers.networks;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.spi.network.Endpoint;
import io.berth.spi.network.Network;
import io.berth.spi.network.NetworkDriver;
import io.berth.spi.network.NetworkResource;
import io.berth.spi.network.NetworkService;
import io.berth.spi.network.PortMapping;
import io.berth.storage.support.DiskFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The engine's networks at {@code <data-root>/networks/ID.json} (written atomically): each name and id mapped to
 * the driver and the driver's network id, with the names and aliases of the containers connected to it. A network
 * a driver has that nobody created here (its predefined one: {@code bridge}, {@code host}, {@code none}) is
 * recorded the first time it is seen, under the driver's name for it. What a network is made of (subnet, gateway,
 * endpoints) the driver keeps; this adds only names.
 */
public final class NetworkRegistry implements NetworkService {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]*");
    private static final String DEFAULT_DRIVER = "bridge";

    /** What ID.json holds. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Stored(String id, String name, String driver, String driverNetworkId, String created, boolean predefined,
                  Map<String, String> labels, Map<String, Member> members) {
        Stored {
            labels = labels == null ? Map.of() : Map.copyOf(labels);
            members = members == null ? Map.of() : Map.copyOf(members);
        }

        Stored withMembers(Map<String, Member> changed) {
            return new Stored(id, name, driver, driverNetworkId, created, predefined, labels, changed);
        }
    }

    /** A connected container: its name and its aliases on this network. */
    record Member(String name, List<String> aliases) {
    }

    private final Path root;
    private final Function<String, NetworkDriver> drivers;
    private final Supplier<List<String>> driverNames;

    /**
     * @param root        the registry's directory
     * @param drivers     the running network driver with a name, or null
     * @param driverNames the names of the running network drivers
     */
    public NetworkRegistry(Path root, Function<String, NetworkDriver> drivers, Supplier<List<String>> driverNames)
            throws IOException {
        this.root = Files.createDirectories(root);
        this.drivers = drivers;
        this.driverNames = driverNames;
    }

    @Override
    public synchronized NetworkResource create(String name, String driver, Map<String, String> options,
                                               Map<String, String> labels) throws IOException {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid network name \"" + name + "\": only [a-zA-Z0-9][a-zA-Z0-9_.-]"
                    + " are allowed");
        }
        String driverName = driver == null || driver.isEmpty() ? DEFAULT_DRIVER : driver;
        NetworkDriver networkDriver = drivers.apply(driverName);
        if (networkDriver == null) {
            throw new NoSuchElementException("plugin \"" + driverName + "\" not found");
        }
        if (stored().stream().anyMatch(s -> s.name().equals(name))) {
            throw new IllegalStateException("network with name " + name + " already exists");
        }
        String id = newId();
        networkDriver.createNetwork(id, options == null ? Map.of() : options);
        Stored created = new Stored(id, name, driverName, id, Instant.now().toString(), false, labels, Map.of());
        try {
            write(created);
        } catch (IOException | RuntimeException e) {
            try {
                networkDriver.deleteNetwork(id);
            } catch (IOException | RuntimeException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
        return resource(created);
    }

    @Override
    public synchronized List<NetworkResource> list() throws IOException {
        List<NetworkResource> list = new ArrayList<>();
        for (Stored stored : stored()) {
            if (drivers.apply(stored.driver()) != null) {
                list.add(resource(stored));
            }
        }
        return list;
    }

    @Override
    public synchronized NetworkResource inspect(String nameOrId) throws IOException {
        return resource(find(nameOrId));
    }

    @Override
    public synchronized void remove(String nameOrId) throws IOException {
        Stored stored = find(nameOrId);
        if (stored.predefined()) {
            throw new IllegalStateException(stored.name() + " is a pre-defined network and cannot be removed");
        }
        NetworkDriver driver = runningDriver(stored);
        if (!driver.endpoints(stored.driverNetworkId()).isEmpty()) {
            throw new IllegalStateException("error while removing network: network " + stored.name() + " id "
                    + stored.id() + " has active endpoints");
        }
        driver.deleteNetwork(stored.driverNetworkId());
        Files.delete(file(stored.id()));
    }

    @Override
    public synchronized List<String> prune() throws IOException {
        List<String> removed = new ArrayList<>();
        for (Stored stored : stored()) {
            NetworkDriver driver = drivers.apply(stored.driver());
            if (!stored.predefined() && driver != null && driver.endpoints(stored.driverNetworkId()).isEmpty()) {
                driver.deleteNetwork(stored.driverNetworkId());
                Files.delete(file(stored.id()));
                removed.add(stored.name());
            }
        }
        return removed;
    }

    @Override
    public synchronized Endpoint connect(String nameOrId, String containerId, String containerName, Path netns,
                                         List<String> aliases, List<PortMapping> ports) throws IOException {
        Stored stored = find(nameOrId);
        NetworkDriver driver = runningDriver(stored);
        if (stored.members().containsKey(containerId)) {
            throw new IllegalStateException("endpoint with name " + containerName + " already exists in network "
                    + stored.name());
        }
        String endpointId = endpointId(containerId, stored);
        Endpoint endpoint = driver.join(stored.driverNetworkId(), endpointId, netns, Map.of());
        try {
            for (PortMapping port : ports == null ? List.<PortMapping>of() : ports) {
                try {
                    endpoint = driver.publish(stored.driverNetworkId(), endpointId, port);
                } catch (IllegalArgumentException refused) { // Docker's framing of a port it cannot publish
                    throw new IllegalArgumentException("driver failed programming external connectivity on endpoint "
                            + containerName + " (" + endpointId + "): " + refused.getMessage(), refused);
                }
            }
            Map<String, Member> members = new TreeMap<>(stored.members());
            members.put(containerId, new Member(containerName, aliases == null ? List.of() : List.copyOf(aliases)));
            write(stored.withMembers(members));
        } catch (IOException | RuntimeException e) {
            try {
                driver.leave(stored.driverNetworkId(), endpointId);
            } catch (IOException | RuntimeException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
        return endpoint;
    }

    @Override
    public synchronized void disconnect(String nameOrId, String containerId) throws IOException {
        Stored stored = find(nameOrId);
        NetworkDriver driver = runningDriver(stored);
        String endpointId = endpointId(containerId, stored);
        if (driver.endpoints(stored.driverNetworkId()).stream().anyMatch(e -> e.endpointId().equals(endpointId))) {
            driver.leave(stored.driverNetworkId(), endpointId);
        }
        if (stored.members().containsKey(containerId)) {
            Map<String, Member> members = new TreeMap<>(stored.members());
            members.remove(containerId);
            write(stored.withMembers(members));
        }
    }

    /** The names a container answers to on a network: its own and its aliases, by address, for /etc/hosts. */
    public synchronized Map<String, List<String>> namesByAddress(String nameOrId) throws IOException {
        Stored stored = find(nameOrId);
        Map<String, List<String>> names = new LinkedHashMap<>();
        Map<String, String> containerOf = containersByEndpoint(stored);
        for (Endpoint endpoint : runningDriver(stored).endpoints(stored.driverNetworkId())) {
            Member member = stored.members().get(containerOf.getOrDefault(endpoint.endpointId(), ""));
            if (member != null && !endpoint.ipv4().isEmpty()) {
                List<String> all = new ArrayList<>();
                all.add(member.name());
                all.addAll(member.aliases());
                names.put(endpoint.ipv4(), all);
            }
        }
        return names;
    }

    private NetworkResource resource(Stored stored) throws IOException {
        NetworkDriver driver = runningDriver(stored);
        Network network = driver.networks().stream().filter(n -> n.networkId().equals(stored.driverNetworkId()))
                .findFirst().orElse(null);
        List<NetworkResource.IpamConfig> ipam = new ArrayList<>();
        if (network != null && !network.subnet().isEmpty()) {
            ipam.add(new NetworkResource.IpamConfig(network.subnet(), network.gateway()));
        }
        Map<String, NetworkResource.Attached> containers = new TreeMap<>();
        Map<String, String> containerOf = containersByEndpoint(stored);
        for (Endpoint endpoint : driver.endpoints(stored.driverNetworkId())) {
            String containerId = containerOf.getOrDefault(endpoint.endpointId(), endpoint.endpointId());
            Member member = stored.members().get(containerId);
            containers.put(containerId, new NetworkResource.Attached(
                    member == null ? "" : member.name(), endpoint.endpointId(), endpoint.macAddress(),
                    endpoint.ipv4Address(), ""));
        }
        return new NetworkResource(stored.name(), stored.id(), stored.created(), "local", stored.driver(), false,
                new NetworkResource.Ipam("default", ipam), network != null && network.internal(), false, false,
                containers, network == null ? Map.of() : network.options(), stored.labels());
    }

    /**
     * A container's endpoint id on a network: unique per driver, since one container may be on several networks of
     * the same driver (half the container's id, half the network's).
     */
    static String endpointId(String containerId, Stored network) {
        return containerId.substring(0, Math.min(32, containerId.length()))
                + network.id().substring(0, Math.min(32, network.id().length()));
    }

    private static Map<String, String> containersByEndpoint(Stored network) {
        Map<String, String> byEndpoint = new TreeMap<>();
        network.members().keySet().forEach(containerId -> byEndpoint.put(endpointId(containerId, network), containerId));
        return byEndpoint;
    }

    private NetworkDriver runningDriver(Stored stored) {
        NetworkDriver driver = drivers.apply(stored.driver());
        if (driver == null) {
            throw new IllegalStateException("network " + stored.name() + " is held by network driver "
                    + stored.driver() + ", which is not running");
        }
        return driver;
    }

    /** By exact name, exact id, then a unique id prefix, as dockerd looks networks up. */
    private Stored find(String nameOrId) throws IOException {
        List<Stored> all = stored();
        for (Stored stored : all) {
            if (stored.name().equals(nameOrId) || stored.id().equals(nameOrId)) {
                return stored;
            }
        }
        List<Stored> prefixed = nameOrId == null || nameOrId.isEmpty() ? List.of()
                : all.stream().filter(s -> s.id().startsWith(nameOrId)).toList();
        if (prefixed.size() == 1) {
            return prefixed.get(0);
        }
        if (prefixed.size() > 1) {
            throw new IllegalArgumentException("network " + nameOrId + " is ambiguous (" + prefixed.size()
                    + " matches found based on ID prefix)");
        }
        throw new NoSuchElementException("network " + nameOrId + " not found");
    }

    /** Every recorded network, after recording the predefined ones of the running drivers, by name. */
    private List<Stored> stored() throws IOException {
        Map<String, Stored> byDriverNetwork = new LinkedHashMap<>();
        for (Stored stored : read()) {
            byDriverNetwork.put(stored.driver() + "/" + stored.driverNetworkId(), stored);
        }
        for (String driverName : driverNames.get()) {
            NetworkDriver driver = drivers.apply(driverName);
            if (driver == null) {
                continue;
            }
            for (Network network : driver.networks()) {
                String key = driverName + "/" + network.networkId();
                boolean nameTaken = byDriverNetwork.values().stream().anyMatch(s -> s.name().equals(network.networkId()));
                if (!byDriverNetwork.containsKey(key) && !nameTaken) {
                    Stored predefined = new Stored(newId(), network.networkId(), driverName, network.networkId(),
                            Instant.now().toString(), true, Map.of(), Map.of());
                    write(predefined);
                    byDriverNetwork.put(key, predefined);
                }
            }
        }
        List<Stored> all = new ArrayList<>(byDriverNetwork.values());
        all.sort(Comparator.comparing(Stored::name));
        return all;
    }

    private List<Stored> read() throws IOException {
        List<Stored> all = new ArrayList<>();
        try (Stream<Path> files = Files.list(root)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                if (file.getFileName().toString().endsWith(".json")) {
                    all.add(JSON.readValue(file.toFile(), Stored.class));
                }
            }
        }
        return all;
    }

    private void write(Stored stored) throws IOException {
        DiskFiles.writeAtomically(file(stored.id()), JSON.writeValueAsBytes(stored));
    }

    private Path file(String id) {
        return root.resolve(id + ".json");
    }

    private static String newId() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
