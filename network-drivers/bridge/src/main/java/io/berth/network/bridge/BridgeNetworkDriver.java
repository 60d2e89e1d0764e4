package io.berth.network.bridge;

import io.berth.network.bridge.BridgeState.EndpointRecord;
import io.berth.network.bridge.BridgeState.NetworkRecord;
import io.berth.network.support.EndpointIds;
import io.berth.spi.driver.DriverStatus;
import io.berth.spi.network.Endpoint;
import io.berth.spi.network.Network;
import io.berth.spi.network.NetworkDriver;
import io.berth.spi.network.PortMapping;
import io.berth.storage.support.Host;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Docker's {@code bridge} driver on Linux bridges, veth pairs and nftables.
 * A default network {@code bridge} (on {@link BridgeSettings#defaultBridge()})
 * exists from the start; user networks get bridges named by a hash of their id. Each
 * join puts one end of a veth pair on the network's bridge and the other,
 * renamed, into the container's namespace, with an address from the
 * network's subnet and a MAC derived from it as Docker derives it.
 *
 * <p>All state is in {@code <root>/state.json}; a new instance (a bundle
 * update, a restart after a crash) keeps the bridges and veths the state
 * names, removes the links a crash left half-created or half-deleted (the
 * state records each link before it is created or deleted), and reloads the
 * nftables table from it in one transaction, so running containers keep their
 * connectivity throughout.
 * Links the state never named are left alone, whatever their names: they may
 * be another daemon's.
 */
public class BridgeNetworkDriver implements NetworkDriver {

    public static final String NAME = "bridge";

    /** The id of the network created at start, as Docker names its default one. */
    public static final String DEFAULT_NETWORK = "bridge";

    /** daemon.json's {@code "bridge": "none"}: as with dockerd, no bridge networking at all. */
    public static final String NO_BRIDGE = "none";

    private static final Logger LOG = Logger.getLogger(BridgeNetworkDriver.class.getName());
    private static final Set<String> NETWORK_OPTIONS = Set.of(OPTION_SUBNET, OPTION_GATEWAY, OPTION_INTERNAL);

    private final BridgeSettings settings;
    private final Path stateFile;
    private final Firewall firewall;
    private final PortProbe ports = new PortProbe();
    private BridgeState state = BridgeState.empty();
    private DriverStatus status;

    /**
     * Opens the driver: reads its state, re-adopts what it names and creates
     * the default network if missing. A failure leaves the driver
     * {@link DriverStatus.State#FAILED} with the reason, not thrown.
     */
    public BridgeNetworkDriver(BridgeSettings settings) {
        this.settings = settings;
        this.stateFile = settings.root().resolve("state.json");
        this.firewall = new Firewall(settings.table(), settings.root().resolve("ruleset.nft"));
        this.status = start();
    }

    private DriverStatus start() {
        if (NO_BRIDGE.equals(settings.defaultBridge())) {
            return DriverStatus.unconfigured("daemon.json sets \"bridge\": \"none\"");
        }
        if (!Host.isRoot()) {
            return DriverStatus.unsupported("the bridge driver needs root (it creates links and nftables rules)");
        }
        try {
            Files.createDirectories(settings.root());
            enableForwarding();
            state = BridgeState.load(stateFile);
            reconcile();
            if (state.network(DEFAULT_NETWORK).isEmpty()) {
                createNetwork(DEFAULT_NETWORK, settings.defaultBridge(), Map.of());
            }
            return DriverStatus.active(Map.of("Default bridge", settings.defaultBridge(), "nftables table", "ip " + settings.table()));
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.SEVERE, "the bridge network driver could not start", e);
            return DriverStatus.failed("could not start: " + e.getMessage());
        }
    }

    /**
     * Outbound NAT and published ports reached from outside need the host to
     * forward IPv4, as Docker makes sure at start; a host that forwards
     * already is left as it is.
     */
    private static void enableForwarding() throws IOException {
        Path forward = Path.of("/proc/sys/net/ipv4/ip_forward");
        if (!"1".equals(Files.readString(forward, StandardCharsets.US_ASCII).trim())) {
            LOG.info("enabling IPv4 forwarding (net.ipv4.ip_forward=1) for bridge networks");
            Files.writeString(forward, "1", StandardCharsets.US_ASCII);
        }
    }

    @Override
    public synchronized DriverStatus status() {
        return status;
    }

    @Override
    public synchronized List<Network> networks() {
        return state.networks().values().stream().map(BridgeNetworkDriver::describe).toList();
    }

    @Override
    public synchronized Network createNetwork(String networkId, Map<String, String> options) throws IOException {
        checkActive();
        EndpointIds.check("network", networkId);
        return createNetwork(networkId, bridgeName(networkId), options);
    }

    private Network createNetwork(String networkId, String bridge, Map<String, String> options) throws IOException {
        if (state.network(networkId).isPresent()) {
            throw new IllegalArgumentException("network with name " + networkId + " already exists");
        }
        for (String key : options.keySet()) {
            if (!NETWORK_OPTIONS.contains(key)) {
                throw new IllegalArgumentException("unknown bridge network option '" + key + "': use "
                        + String.join(", ", new TreeSet<>(NETWORK_OPTIONS)));
            }
        }
        boolean internal = parseBoolean(options.getOrDefault(OPTION_INTERNAL, "false"));
        Ipv4Subnet subnet = chooseSubnet(options.get(OPTION_SUBNET));
        int gateway = chooseGateway(subnet, options.get(OPTION_GATEWAY));
        NetworkRecord network = new NetworkRecord(networkId, bridge, subnet.toString(), Ipv4Subnet.format(gateway),
                internal, options, "", List.of());

        HostLinks.deleteIfExists(bridge); // a leftover of ours under this name: nothing the state names
        announce(bridge);
        try {
            HostLinks.createBridge(bridge, Ipv4Subnet.format(gateway) + "/" + subnet.prefix());
        } catch (IOException | RuntimeException e) {
            undo(e, () -> HostLinks.deleteIfExists(bridge));
            throw e;
        }
        commitOrUndo(state.with(network).settled(), () -> HostLinks.deleteIfExists(bridge));
        return describe(network);
    }

    @Override
    public synchronized void deleteNetwork(String networkId) throws IOException {
        checkActive();
        NetworkRecord network = requireNetwork(networkId);
        if (DEFAULT_NETWORK.equals(networkId)) {
            throw new IllegalArgumentException(networkId + " is a pre-defined network and cannot be removed");
        }
        if (!network.endpoints().isEmpty()) {
            throw new IllegalArgumentException("network " + networkId + " has active endpoints: "
                    + network.endpoints().stream().map(EndpointRecord::id).collect(Collectors.joining(", ")));
        }
        // rules first: they name the bridge, and nft refuses nothing for a missing interface name
        commit(state.without(networkId).withPending(network.bridge()));
        HostLinks.deleteIfExists(network.bridge());
        settle();
    }

    @Override
    public synchronized Endpoint join(String networkId, String endpointId, Path netns, Map<String, String> options)
            throws IOException {
        checkActive();
        NetworkRecord network = requireNetwork(networkId);
        EndpointIds.check("endpoint", endpointId);
        state.networkOfEndpoint(endpointId).ifPresent(n -> {
            throw new IllegalArgumentException("endpoint " + endpointId + " already exists in network " + n.id());
        });
        for (String key : options.keySet()) {
            if (!OPTION_INTERFACE.equals(key)) {
                throw new IllegalArgumentException("unknown bridge endpoint option '" + key + "': use " + OPTION_INTERFACE);
            }
        }
        if (netns == null || !Files.exists(netns)) {
            throw new IllegalArgumentException("network namespace " + netns + " does not exist");
        }
        String interfaceName = options.getOrDefault(OPTION_INTERFACE, "");
        Set<String> present = HostLinks.linksIn(netns);
        if (interfaceName.isEmpty()) {
            interfaceName = firstFreeEth(present);
        } else if (present.contains(interfaceName) || !interfaceName.matches("[A-Za-z0-9_.-]{1,15}")) {
            throw new IllegalArgumentException("interface name " + interfaceName + " is taken or invalid in " + netns);
        }

        Ipv4Subnet subnet = network.ipv4Subnet();
        int address = allocate(network, subnet);
        String mac = macFor(address);
        String veth = settings.vethPrefix() + hash(endpointId, 8);
        String gateway = network.internal() ? "" : network.gateway();
        EndpointRecord endpoint = new EndpointRecord(endpointId, veth, netns.toString(), interfaceName,
                Ipv4Subnet.format(address), mac, List.of());

        HostLinks.deleteIfExists(veth); // a leftover of ours under this name: nothing the state names
        announce(veth);
        HostLinks.createEndpoint(veth, network.bridge(), netns, interfaceName, mac,
                Ipv4Subnet.format(address) + "/" + subnet.prefix(), gateway);
        commitOrUndo(state.with(network.withEndpoint(endpoint, Ipv4Subnet.format(address))).settled(),
                () -> HostLinks.deleteIfExists(veth));
        return describe(network, endpoint);
    }

    @Override
    public synchronized Endpoint publish(String networkId, String endpointId, PortMapping mapping) throws IOException {
        checkActive();
        NetworkRecord network = requireNetwork(networkId);
        EndpointRecord endpoint = network.endpoint(endpointId).orElseThrow(() -> new IllegalArgumentException(
                "endpoint " + endpointId + " not found in network " + networkId));
        if (!PortMapping.ANY_HOST_IP.equals(mapping.hostIp())) {
            Ipv4Subnet.parseAddress(mapping.hostIp(), "host address");
        }
        List<PortMapping> taken = state.published().stream().map(BridgeState.Published::port).toList();
        PortMapping chosen = ports.reserve(mapping, taken);
        commitOrUndo(state.with(network.withEndpoint(endpoint.withPort(chosen), network.lastAddress())), () -> { });
        return describe(requireNetwork(networkId), requireNetwork(networkId).endpoint(endpointId).orElseThrow());
    }

    @Override
    public synchronized List<Endpoint> endpoints(String networkId) {
        NetworkRecord network = requireNetwork(networkId);
        return network.endpoints().stream().map(endpoint -> describe(network, endpoint)).toList();
    }

    @Override
    public synchronized void leave(String networkId, String endpointId) throws IOException {
        checkActive();
        NetworkRecord network = requireNetwork(networkId);
        EndpointRecord endpoint = network.endpoint(endpointId).orElse(null);
        if (endpoint == null) {
            return;
        }
        HostLinks.deleteIfExists(endpoint.veth());
        commit(state.with(network.withoutEndpoint(endpointId)));
    }

    /**
     * Records on disk that {@code link} is about to be created, so that a crash
     * before the commit that names it leaves a link the next instance knows to
     * remove, without guessing from names (another daemon's links look alike).
     */
    private void announce(String link) throws IOException {
        BridgeState next = state.withPending(link);
        next.save(stateFile);
        state = next;
    }

    /** Forgets the pending links once their deletion is done. */
    private void settle() throws IOException {
        BridgeState next = state.settled();
        if (next != state) {
            next.save(stateFile);
            state = next;
        }
    }

    /** Makes {@code next} the state: on disk first, then in the kernel's rules. */
    private void commit(BridgeState next) throws IOException {
        next.save(stateFile);
        state = next;
        firewall.apply(next);
    }

    /**
     * Commits {@code next}; when that fails, puts the previous state back (file
     * and rules) and undoes what was done on the host for {@code next}.
     */
    private void commitOrUndo(BridgeState next, Undo hostChange) throws IOException {
        BridgeState before = state;
        try {
            commit(next);
        } catch (IOException | RuntimeException e) {
            state = before;
            undo(e, () -> commit(before));
            undo(e, hostChange);
            throw e;
        }
    }

    /**
     * Brings the host in line with the state: the state's bridges exist, carry
     * their gateway and are up (kept as they are when they already do);
     * endpoints whose veth is gone (their namespace went away) are dropped and
     * their addresses released; pending links the state does not name (a
     * crash came before their creation or deletion was recorded as done) are
     * deleted; the rules are reloaded in one transaction.
     * Nothing else on the host is touched.
     */
    private void reconcile() throws IOException {
        Map<String, String> bridges = HostLinks.links("bridge");
        Map<String, String> veths = HostLinks.links("veth");
        BridgeState next = state;
        for (NetworkRecord network : state.networks().values()) {
            String gatewayCidr = network.gateway() + "/" + network.ipv4Subnet().prefix();
            if (bridges.containsKey(network.bridge())) {
                HostLinks.ensureBridgeUp(network.bridge(), gatewayCidr);
            } else {
                LOG.warning(() -> "bridge " + network.bridge() + " of network " + network.id() + " was missing: created again");
                HostLinks.createBridge(network.bridge(), gatewayCidr);
            }
            NetworkRecord kept = network;
            for (EndpointRecord endpoint : network.endpoints()) {
                if (!veths.containsKey(endpoint.veth())) {
                    LOG.info(() -> "endpoint " + endpoint.id() + " of network " + network.id()
                            + " lost its interface (its namespace is gone): released " + endpoint.address());
                    kept = kept.withoutEndpoint(endpoint.id());
                } else if (!network.bridge().equals(veths.get(endpoint.veth()))) {
                    HostLinks.attach(endpoint.veth(), network.bridge());
                }
            }
            next = next.with(kept);
        }
        Set<String> named = next.networks().values().stream()
                .flatMap(n -> Stream.concat(Stream.of(n.bridge()),
                        n.endpoints().stream().map(EndpointRecord::veth)))
                .collect(Collectors.toSet());
        for (String link : state.pendingLinks()) {
            if (!named.contains(link)) {
                LOG.info(() -> "removing " + link + ", left half-done by an instance that stopped meanwhile");
                HostLinks.deleteIfExists(link);
            }
        }
        next = next.settled();
        if (!next.equals(state)) {
            next.save(stateFile);
            state = next;
        }
        firewall.apply(state);
    }

    private Ipv4Subnet chooseSubnet(String requested) throws IOException {
        List<Ipv4Subnet> networks = state.networks().values().stream().map(NetworkRecord::ipv4Subnet).toList();
        Set<String> ownBridges = state.networks().values().stream().map(NetworkRecord::bridge).collect(Collectors.toSet());
        List<Ipv4Subnet> host = HostLinks.hostSubnets(ownBridges);
        if (requested == null) {
            List<Ipv4Subnet> inUse = new ArrayList<>(networks);
            inUse.addAll(host);
            return DefaultAddressPools.firstFree(inUse).orElseThrow(() -> new IllegalArgumentException(
                    "all predefined address pools have been fully subnetted: give the network a subnet"));
        }
        Ipv4Subnet subnet = Ipv4Subnet.parse(requested);
        if (subnet.prefix() > 30) {
            throw new IllegalArgumentException("invalid subnet " + subnet + ": a /" + subnet.prefix()
                    + " has no room for a gateway and a container (use /30 or larger)");
        }
        for (NetworkRecord other : state.networks().values()) {
            if (other.ipv4Subnet().overlaps(subnet)) {
                throw new IllegalArgumentException("invalid pool request: subnet " + subnet
                        + " overlaps the subnet " + other.subnet() + " of network " + other.id());
            }
        }
        for (Ipv4Subnet used : host) {
            if (used.overlaps(subnet)) {
                throw new IllegalArgumentException("subnet " + subnet + " overlaps " + used
                        + ", which the host already routes or has an address in");
            }
        }
        return subnet;
    }

    private static int chooseGateway(Ipv4Subnet subnet, String requested) {
        if (requested == null) {
            return subnet.address(1);
        }
        int gateway = Ipv4Subnet.parseAddress(requested, "gateway");
        if (!subnet.isHostAddress(gateway)) {
            throw new IllegalArgumentException("gateway " + requested + " is not a host address of subnet " + subnet);
        }
        return gateway;
    }

    /**
     * The next free address after the one handed out last (wrapping round), so
     * a released address is not given again at once: never the network, the
     * broadcast or the gateway address, never one an endpoint holds.
     */
    private static int allocate(NetworkRecord network, Ipv4Subnet subnet) {
        Set<Integer> taken = network.endpoints().stream()
                .map(e -> Ipv4Subnet.parseAddress(e.address(), "address")).collect(Collectors.toSet());
        taken.add(Ipv4Subnet.parseAddress(network.gateway(), "gateway"));
        long size = subnet.size();
        long start = network.lastAddress().isEmpty() ? 0 : subnet.offset(Ipv4Subnet.parseAddress(network.lastAddress(), "address"));
        for (long step = 1; step <= size; step++) {
            int candidate = subnet.address((start + step) % size);
            if (subnet.isHostAddress(candidate) && !taken.contains(candidate)) {
                return candidate;
            }
        }
        throw new IllegalArgumentException("no available IPv4 addresses on network " + network.id() + " (" + subnet + ")");
    }

    /** Docker's MAC for an address: 02:42 and the four bytes of the address. */
    static String macFor(int address) {
        return String.format("02:42:%02x:%02x:%02x:%02x", address >>> 24, (address >>> 16) & 0xff, (address >>> 8) & 0xff, address & 0xff);
    }

    private String bridgeName(String networkId) {
        return settings.bridgePrefix() + hash(networkId, Math.min(12, 15 - settings.bridgePrefix().length()));
    }

    private static String hash(String text, int digits) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest).substring(0, digits);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String firstFreeEth(Set<String> present) {
        for (int i = 0; ; i++) {
            if (!present.contains("eth" + i)) {
                return "eth" + i;
            }
        }
    }

    private static boolean parseBoolean(String text) {
        return switch (text) {
            case "true", "1" -> true;
            case "false", "0", "" -> false;
            default -> throw new IllegalArgumentException("invalid value '" + text + "' for option " + OPTION_INTERNAL + ": use true or false");
        };
    }

    private NetworkRecord requireNetwork(String networkId) {
        return state.network(networkId).orElseThrow(() -> new IllegalArgumentException("network " + networkId + " not found"));
    }

    private void checkActive() throws IOException {
        if (!status.isActive()) {
            throw new IOException("the bridge network driver is not active: " + status.reason());
        }
    }

    private static Network describe(NetworkRecord network) {
        return new Network(network.id(), NAME, network.subnet(), network.gateway(), network.internal(), network.bridge(),
                network.options());
    }

    private static Endpoint describe(NetworkRecord network, EndpointRecord endpoint) {
        return new Endpoint(network.id(), endpoint.id(), false, endpoint.interfaceName(), endpoint.mac(),
                endpoint.address() + "/" + network.ipv4Subnet().prefix(), network.internal() ? "" : network.gateway(),
                endpoint.ports());
    }

    /** Something to put back after a failure; its own failure is added to the first one. */
    private interface Undo {
        void run() throws IOException;
    }

    private static void undo(Exception failure, Undo undo) {
        try {
            undo.run();
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }
}
