package io.berth.network.bridge;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.berth.spi.network.PortMapping;
import io.berth.storage.support.DiskFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Everything the bridge driver created, as one JSON file
 * ({@code <root>/state.json}, replaced atomically on every change): the
 * networks with their bridges and subnets, and their endpoints with the
 * addresses IPAM gave them and their published ports, and the links whose
 * creation or deletion is under way ({@code pendingLinks}: saved before
 * {@code ip link add} and before {@code ip link delete}, cleared once the
 * change is done). A new driver instance rebuilds the host's side (bridges,
 * nftables rules) from it and removes the pending links it does not name; a
 * link the state never named is not the driver's, whatever its name.
 * Immutable: every change makes a new state.
 */
record BridgeState(Map<String, NetworkRecord> networks, List<String> pendingLinks) {

    /** A network and its host bridge. {@code lastAddress} is where IPAM continues, so a released address is not reused at once. */
    record NetworkRecord(String id, String bridge, String subnet, String gateway, boolean internal,
                         Map<String, String> options, String lastAddress, List<EndpointRecord> endpoints) {

        NetworkRecord {
            options = options == null ? Map.of() : Map.copyOf(options);
            endpoints = endpoints == null ? List.of() : List.copyOf(endpoints);
            lastAddress = lastAddress == null ? "" : lastAddress;
        }

        Ipv4Subnet ipv4Subnet() {
            return Ipv4Subnet.parse(subnet);
        }

        Optional<EndpointRecord> endpoint(String endpointId) {
            return endpoints.stream().filter(e -> e.id().equals(endpointId)).findFirst();
        }

        NetworkRecord withEndpoint(EndpointRecord endpoint, String allocated) {
            List<EndpointRecord> list = new ArrayList<>(endpoints);
            list.removeIf(e -> e.id().equals(endpoint.id()));
            list.add(endpoint);
            return new NetworkRecord(id, bridge, subnet, gateway, internal, options, allocated, list);
        }

        NetworkRecord withoutEndpoint(String endpointId) {
            List<EndpointRecord> list = new ArrayList<>(endpoints);
            list.removeIf(e -> e.id().equals(endpointId));
            return new NetworkRecord(id, bridge, subnet, gateway, internal, options, lastAddress, list);
        }
    }

    /**
     * A namespace's attachment: the host end of its veth pair, the namespace,
     * the interface name and address inside it, and its published ports.
     */
    record EndpointRecord(String id, String veth, String netns, String interfaceName, String address, String mac,
                          List<PortMapping> ports) {

        EndpointRecord {
            ports = ports == null ? List.of() : List.copyOf(ports);
        }

        EndpointRecord withPort(PortMapping port) {
            List<PortMapping> list = new ArrayList<>(ports);
            list.add(port);
            return new EndpointRecord(id, veth, netns, interfaceName, address, mac, list);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    BridgeState {
        networks = Collections.unmodifiableMap(new TreeMap<>(networks)); // sorted by id: a stable file and listing
        pendingLinks = pendingLinks == null ? List.of() : List.copyOf(pendingLinks);
    }

    static BridgeState empty() {
        return new BridgeState(Map.of(), List.of());
    }

    /** This state with {@code link} pending: about to be created, or to be deleted. */
    BridgeState withPending(String link) {
        List<String> links = new ArrayList<>(pendingLinks);
        links.add(link);
        return new BridgeState(networks, links);
    }

    /** This state with no link pending: the links created are named by now, the ones deleted gone. */
    BridgeState settled() {
        return pendingLinks.isEmpty() ? this : new BridgeState(networks, List.of());
    }

    /** Reads the state file; a missing one is an empty state. */
    static BridgeState load(Path file) throws IOException {
        if (!Files.exists(file)) {
            return empty();
        }
        try {
            return JSON.readValue(file.toFile(), BridgeState.class);
        } catch (IOException e) {
            throw new IOException("cannot read the bridge driver's state " + file + ": " + e.getMessage(), e);
        }
    }

    void save(Path file) throws IOException {
        DiskFiles.writeAtomically(file, JSON.writeValueAsBytes(this));
    }

    Optional<NetworkRecord> network(String networkId) {
        return Optional.ofNullable(networks.get(networkId));
    }

    /** The network that holds endpoint {@code endpointId}, if any. */
    Optional<NetworkRecord> networkOfEndpoint(String endpointId) {
        return networks.values().stream().filter(n -> n.endpoint(endpointId).isPresent()).findFirst();
    }

    BridgeState with(NetworkRecord network) {
        Map<String, NetworkRecord> map = new TreeMap<>(networks);
        map.put(network.id(), network);
        return new BridgeState(map, pendingLinks);
    }

    BridgeState without(String networkId) {
        Map<String, NetworkRecord> map = new TreeMap<>(networks);
        map.remove(networkId);
        return new BridgeState(map, pendingLinks);
    }

    /** Every published port of every endpoint, with the address it goes to. */
    List<Published> published() {
        List<Published> list = new ArrayList<>();
        for (NetworkRecord network : networks.values()) {
            for (EndpointRecord endpoint : network.endpoints()) {
                for (PortMapping port : endpoint.ports()) {
                    list.add(new Published(network, endpoint, port));
                }
            }
        }
        return list;
    }

    /** A published port and where it leads. */
    record Published(NetworkRecord network, EndpointRecord endpoint, PortMapping port) {
    }
}
