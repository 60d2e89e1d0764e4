package io.berth.network.bridge;

import static io.berth.spi.network.NetworkDriver.OPTION_GATEWAY;
import static io.berth.spi.network.NetworkDriver.OPTION_INTERNAL;
import static io.berth.spi.network.NetworkDriver.OPTION_SUBNET;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.network.support.NetCommands;
import io.berth.network.testsuite.TestNamespaces;
import io.berth.network.testsuite.UdpEchoServer;
import io.berth.spi.driver.DriverStatus;
import io.berth.spi.network.Endpoint;
import io.berth.spi.network.Network;
import io.berth.spi.network.PortMapping;
import io.berth.spi.network.PortMapping.Protocol;
import io.berth.storage.support.Commands;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bridge driver against the real kernel: namespaces of the test's own
 * ({@code berth-t-*}) reach each other through the driver's bridges, busybox
 * httpd and a UDP echo server answer on published ports, and {@code ip} and
 * {@code nft} show what the driver left. Traffic stays on loopback and
 * between the test's namespaces.
 */
class BridgeNetworkDriverTest {

    @TempDir
    Path temp;

    private final TestNamespaces namespaces = new TestNamespaces();
    private final List<String> extraLinks = new ArrayList<>();
    private Path root;
    private BridgeNetworkDriver driver;

    @BeforeEach
    void openDriver() throws Exception {
        TestBridgeHost.removeLeftovers(); // a run that was killed may have left some
        root = Files.createDirectories(temp.resolve("bridge"));
        driver = open();
    }

    private BridgeNetworkDriver open() {
        BridgeNetworkDriver opened = new BridgeNetworkDriver(TestBridgeHost.settings(root));
        assertTrue(opened.status().isActive(), () -> "status: " + opened.status());
        return opened;
    }

    @AfterEach
    void removeEverything() throws Exception {
        try {
            namespaces.close();
        } finally {
            for (String link : extraLinks) {
                HostLinks.deleteIfExists(link);
            }
            TestBridgeHost.removeLeftovers();
        }
    }

    @Test
    void theDefaultNetworkTakesTheFirstPoolSubnetTheHostDoesNotUse() throws Exception {
        // a fresh driver on a host where 172.17/16 and 172.18/16 are taken by an interface of the test's
        TestBridgeHost.removeLeftovers();
        extraLinks.add("bxtaken0");
        NetCommands.ip("link", "add", "name", "bxtaken0", "type", "bridge");
        NetCommands.ip("addr", "add", "172.17.0.1/16", "dev", "bxtaken0");
        NetCommands.ip("addr", "add", "172.18.5.1/24", "dev", "bxtaken0");
        Path otherRoot = Files.createDirectories(temp.resolve("other"));
        BridgeNetworkDriver fresh = new BridgeNetworkDriver(TestBridgeHost.settings(otherRoot));

        Network network = fresh.networks().get(0);
        assertEquals(BridgeNetworkDriver.DEFAULT_NETWORK, network.networkId());
        assertEquals(TestBridgeHost.DEFAULT_BRIDGE, network.hostInterface());
        Ipv4Subnet subnet = Ipv4Subnet.parse(network.subnet());
        for (Ipv4Subnet used : HostLinks.hostSubnets(Set.of(TestBridgeHost.DEFAULT_BRIDGE))) {
            assertFalse(used.overlaps(subnet), () -> network.subnet() + " overlaps the host's " + used);
        }
        assertEquals(Set.of(network.gateway() + "/" + subnet.prefix()), HostLinks.addresses(TestBridgeHost.DEFAULT_BRIDGE));
        assertEquals(network.subnet(), new BridgeNetworkDriver(TestBridgeHost.settings(otherRoot)).networks().get(0).subnet(),
                "a new instance keeps the subnet");
    }

    @Test
    void bridgeNoneLeavesTheDriverUnconfiguredAndTheHostUntouched() throws Exception {
        TestBridgeHost.removeLeftovers();
        String links = NetCommands.ip("-o", "link", "show");
        Path otherRoot = Files.createDirectories(temp.resolve("other"));
        BridgeNetworkDriver off = new BridgeNetworkDriver(new BridgeSettings(otherRoot, TestBridgeHost.TABLE,
                BridgeNetworkDriver.NO_BRIDGE, "bt", "vbt"));

        assertEquals(DriverStatus.State.UNCONFIGURED, off.status().state());
        assertTrue(off.status().reason().contains("none"), off.status().reason());
        assertEquals(List.of(), off.networks());
        IOException refused = assertThrows(IOException.class, () -> off.createNetwork("x", Map.of()));
        assertTrue(refused.getMessage().contains("not active"), refused.getMessage());
        assertEquals(links, NetCommands.ip("-o", "link", "show"));
        assertNotEquals(0, NetCommands.run(List.of("nft", "list", "table", "ip", TestBridgeHost.TABLE)).exitCode());
    }

    @Test
    void twoNamespacesOnOneNetworkReachEachOther() throws Exception {
        for (String networkId : List.of(BridgeNetworkDriver.DEFAULT_NETWORK, "front")) {
            if (!networkId.equals(BridgeNetworkDriver.DEFAULT_NETWORK)) {
                driver.createNetwork(networkId, Map.of());
            }
            Path client = namespaces.create();
            Path server = namespaces.create();
            driver.join(networkId, networkId + "-client", client, Map.of());
            Endpoint web = driver.join(networkId, networkId + "-server", server, Map.of());
            namespaces.startHttpd(server, site("hello from " + networkId));

            Commands.Result fetched = namespaces.wget(client, "http://" + web.ipv4() + "/");
            assertEquals(0, fetched.exitCode(), fetched::message);
            assertEquals("hello from " + networkId, fetched.stdout().trim());
        }
    }

    @Test
    void differentNetworksAreIsolated() throws Exception {
        driver.createNetwork("one", Map.of());
        driver.createNetwork("two", Map.of());
        Path onOne = namespaces.create();
        Path onTwo = namespaces.create();
        Path server = namespaces.create();
        driver.join("one", "client-one", onOne, Map.of());
        driver.join("two", "client-two", onTwo, Map.of());
        Endpoint web = driver.join("two", "server", server, Map.of());
        namespaces.startHttpd(server, site("two"));

        Commands.Result same = namespaces.wget(onTwo, "http://" + web.ipv4() + "/");
        assertEquals(0, same.exitCode(), same::message);
        Commands.Result across = namespaces.wget(onOne, "http://" + web.ipv4() + "/");
        assertNotEquals(0, across.exitCode(), () -> "reached another network: " + across.stdout());
        String forward = table();
        Network one = network("one");
        Network two = network("two");
        assertTrue(forward.contains("iifname \"" + one.hostInterface() + "\" oifname { ") && forward.contains("\"" + two.hostInterface() + "\""),
                forward);
    }

    @Test
    void aPublishedTcpPortAnswersOnLoopbackAndOnTheHostsOwnAddress() throws Exception {
        Path server = namespaces.create();
        driver.join(BridgeNetworkDriver.DEFAULT_NETWORK, "web", server, Map.of());
        namespaces.startHttpd(server, site("published"));
        int port = freePort();
        Endpoint endpoint = driver.publish(BridgeNetworkDriver.DEFAULT_NETWORK, "web", new PortMapping(Protocol.TCP, "", port, 80));
        assertEquals(List.of(new PortMapping(Protocol.TCP, "0.0.0.0", port, 80)), endpoint.ports());

        assertEquals("published", curl("127.0.0.1", port));
        assertEquals("published", curl(hostAddress(), port));

        // port 0: the driver picks a free one (-P), and says which
        Endpoint picked = driver.publish(BridgeNetworkDriver.DEFAULT_NETWORK, "web", new PortMapping(Protocol.TCP, "127.0.0.1", 0, 80));
        PortMapping chosen = picked.ports().get(1);
        assertNotEquals(0, chosen.hostPort());
        assertEquals("published", curl("127.0.0.1", chosen.hostPort()));
        assertNotEquals(0, NetCommands.run(curlCommand(hostAddress(), chosen.hostPort())).exitCode(),
                "a port published on 127.0.0.1 only does not answer on the host's other addresses");
    }

    @Test
    void aPublishedUdpPortAnswers() throws Exception {
        Path server = namespaces.create();
        driver.join(BridgeNetworkDriver.DEFAULT_NETWORK, "dns", server, Map.of());
        namespaces.startUdpEcho(server, 5353);
        int port = freePort();
        driver.publish(BridgeNetworkDriver.DEFAULT_NETWORK, "dns", new PortMapping(Protocol.UDP, "", port, 5353));

        assertEquals("got hello", UdpEchoServer.ask("127.0.0.1", port, "hello"));
        assertEquals("got again", UdpEchoServer.ask(hostAddress(), port, "again"));
    }

    @Test
    void aHostPortInUseIsRefusedAndNothingIsPublished() throws Exception {
        Path server = namespaces.create();
        driver.join(BridgeNetworkDriver.DEFAULT_NETWORK, "web", server, Map.of());
        String rulesBefore = table();
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("0.0.0.0", 0));
            int port = taken.getLocalPort();
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> driver.publish(
                    BridgeNetworkDriver.DEFAULT_NETWORK, "web", new PortMapping(Protocol.TCP, "", port, 80)));
            assertTrue(refused.getMessage().contains(port + "") && refused.getMessage().contains("already in use"),
                    refused.getMessage());
        }
        assertEquals(List.of(), driver.endpoints(BridgeNetworkDriver.DEFAULT_NETWORK).get(0).ports());
        assertEquals(rulesBefore, table());

        int port = freePort();
        driver.publish(BridgeNetworkDriver.DEFAULT_NETWORK, "web", new PortMapping(Protocol.TCP, "", port, 80));
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> driver.publish(
                BridgeNetworkDriver.DEFAULT_NETWORK, "web", new PortMapping(Protocol.TCP, "127.0.0.1", port, 8080)));
        assertTrue(twice.getMessage().contains("already allocated"), twice.getMessage());
        IllegalArgumentException notHost = assertThrows(IllegalArgumentException.class, () -> driver.publish(
                BridgeNetworkDriver.DEFAULT_NETWORK, "web", new PortMapping(Protocol.TCP, "192.0.2.254", freePort(), 80)));
        assertTrue(notHost.getMessage().contains("not an address of this host"), notHost.getMessage());
        assertEquals(1, driver.endpoints(BridgeNetworkDriver.DEFAULT_NETWORK).get(0).ports().size());
    }

    @Test
    void badNetworkRequestsAreRefusedAndCreateNothing() throws Exception {
        driver.createNetwork("taken", Map.of(OPTION_SUBNET, "172.30.0.0/16"));
        String hostBits = refusal(() -> driver.createNetwork("n1", Map.of(OPTION_SUBNET, "172.29.0.1/16")));
        assertTrue(hostBits.contains("172.29.0.0/16"), hostBits);
        assertTrue(refusal(() -> driver.createNetwork("n1", Map.of(OPTION_SUBNET, "172.29.0.0/33"))).contains("prefix length"));
        assertTrue(refusal(() -> driver.createNetwork("n1", Map.of(OPTION_SUBNET, "300.1.0.0/16"))).contains("not an IPv4 address"));
        assertTrue(refusal(() -> driver.createNetwork("n1", Map.of(OPTION_SUBNET, "nonsense"))).contains("CIDR"));
        String overlap = refusal(() -> driver.createNetwork("n1", Map.of(OPTION_SUBNET, "172.30.128.0/17")));
        assertTrue(overlap.contains("overlaps") && overlap.contains("taken"), overlap);
        String hostOverlap = refusal(() -> driver.createNetwork("n1", Map.of(OPTION_SUBNET,
                Ipv4Subnet.containing(Ipv4Subnet.parseAddress(hostAddress(), "host"), 24).toString())));
        assertTrue(hostOverlap.contains("host"), hostOverlap);
        String gateway = refusal(() -> driver.createNetwork("n1", Map.of(OPTION_SUBNET, "172.29.0.0/16",
                OPTION_GATEWAY, "10.0.0.1")));
        assertTrue(gateway.contains("10.0.0.1") && gateway.contains("172.29.0.0/16"), gateway);
        assertTrue(refusal(() -> driver.createNetwork("taken", Map.of())).contains("already exists"));
        assertTrue(refusal(() -> driver.createNetwork("n1", Map.of("mtu", "1500"))).contains("mtu"));
        assertTrue(refusal(() -> driver.createNetwork("n1", Map.of(OPTION_INTERNAL, "maybe"))).contains("maybe"));
        assertTrue(refusal(() -> driver.createNetwork("bad/name", Map.of())).contains("bad/name"));
        assertTrue(refusal(() -> driver.deleteNetwork(BridgeNetworkDriver.DEFAULT_NETWORK)).contains("pre-defined"));
        assertTrue(refusal(() -> driver.deleteNetwork("nope")).contains("not found"));

        assertEquals(List.of(BridgeNetworkDriver.DEFAULT_NETWORK, "taken"),
                driver.networks().stream().map(Network::networkId).sorted().toList());
        assertEquals(Set.of(TestBridgeHost.DEFAULT_BRIDGE, network("taken").hostInterface()), testBridges());
        assertEquals(driver.networks(), open().networks(), "the state on disk holds only what was created");
    }

    @Test
    void aDeletedNetworkLeavesNothingInLinksAddressesOrRules() throws Exception {
        Network network = driver.createNetwork("gone", Map.of(OPTION_SUBNET, "172.29.64.0/24",
                OPTION_GATEWAY, "172.29.64.254"));
        assertEquals("172.29.64.254", network.gateway());
        Path netns = namespaces.create();
        Endpoint endpoint = driver.join("gone", "ep", netns, Map.of());
        driver.publish("gone", "ep", new PortMapping(Protocol.TCP, "", freePort(), 80));
        String veth = TestBridgeHost.settings(root).vethPrefix();
        assertTrue(NetCommands.ip("-o", "link", "show").contains(network.hostInterface()));
        assertTrue(table().contains("172.29.64."), table());

        driver.leave("gone", "ep");
        driver.deleteNetwork("gone");
        String links = NetCommands.ip("-o", "link", "show");
        String addresses = NetCommands.ip("-o", "addr", "show");
        String rules = NetCommands.check(List.of("nft", "list", "ruleset"));
        assertFalse(links.contains(network.hostInterface()) || links.contains(veth), links);
        assertFalse(addresses.contains("172.29.64."), addresses);
        assertFalse(rules.contains(network.hostInterface()) || rules.contains("172.29.64.") || rules.contains(endpoint.ipv4()), rules);
    }

    @Test
    void internalNetworksGetNoGatewayNoNatAndNoWayOut() throws Exception {
        Network internal = driver.createNetwork("inside", Map.of(OPTION_INTERNAL, "true"));
        assertTrue(internal.internal());
        Path netns = namespaces.create();
        Endpoint endpoint = driver.join("inside", "ep", netns, Map.of());
        assertEquals("", endpoint.gateway());
        assertEquals("", NetCommands.inNamespace(netns, "ip", "route", "show", "default").trim());

        String rules = table();
        String bridge = "\"" + internal.hostInterface() + "\"";
        assertFalse(rules.contains("ip saddr " + internal.subnet() + " oifname"), rules);
        assertTrue(rules.contains("iifname " + bridge + " oifname != " + bridge + " drop"), rules);
        assertTrue(rules.contains("oifname " + bridge + " iifname != " + bridge + " drop"), rules);
        Network bridgeNet = network(BridgeNetworkDriver.DEFAULT_NETWORK);
        assertTrue(rules.contains("ip saddr " + bridgeNet.subnet() + " oifname != \"" + bridgeNet.hostInterface() + "\" masquerade"),
                () -> "outbound NAT for the default network: " + rules);
    }

    @Test
    void aNewInstanceReadoptsWithoutDroppingConnectivityDuplicatingRulesOrKeepingLeftovers() throws Exception {
        driver.createNetwork("app", Map.of());
        Path client = namespaces.create();
        Path server = namespaces.create();
        driver.join("app", "client", client, Map.of());
        Endpoint web = driver.join("app", "server", server, Map.of());
        namespaces.startHttpd(server, site("still here"));
        int port = freePort();
        driver.publish("app", "server", new PortMapping(Protocol.TCP, "", port, 80));
        String rulesBefore = table();
        String linksBefore = ourLinks();

        // what a crash could leave: a bridge and a veth created but not yet recorded (the state names them as
        // pending), a chain in the table
        NetCommands.ip("link", "add", "name", "bt-leftover", "type", "bridge");
        NetCommands.ip("link", "add", "name", "vbtleftover", "type", "veth", "peer", "name", "pbtleftover");
        BridgeState.load(root.resolve("state.json")).withPending("bt-leftover").withPending("vbtleftover")
                .save(root.resolve("state.json"));
        NetCommands.check(List.of("nft", "add", "chain", "ip", TestBridgeHost.TABLE, "stray"));

        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger fetched = new AtomicInteger();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        Thread fetcher = new Thread(() -> {
            while (running.get()) {
                try {
                    Commands.Result result = namespaces.wget(client, "http://" + web.ipv4() + "/");
                    if (result.exitCode() == 0 && result.stdout().trim().equals("still here")) {
                        fetched.incrementAndGet();
                    } else {
                        failures.add(result.message());
                    }
                } catch (IOException e) {
                    failures.add(e.toString());
                }
            }
        });
        fetcher.start();
        while (fetched.get() < 3) {
            Thread.sleep(10);
        }
        int beforeReadoption = fetched.get();
        BridgeNetworkDriver again = open();
        int afterReadoption = fetched.get();
        while (fetched.get() < afterReadoption + 3) {
            Thread.sleep(10);
        }
        running.set(false);
        fetcher.join();

        assertEquals(List.of(), failures, "no fetch failed while the new instance re-adopted");
        assertTrue(beforeReadoption > 0);
        assertEquals(rulesBefore, table(), "the same rules, once each, and no stray chain");
        assertEquals(linksBefore, ourLinks(), "the same links (same interface indexes), and no leftovers");
        assertEquals(driver.networks(), again.networks());
        assertEquals(driver.endpoints("app"), again.endpoints("app"));
        assertEquals("still here", curl("127.0.0.1", port));
    }

    /**
     * Two daemons on one host (different default bridges, the same name prefixes): the second one's start and
     * its changes leave the first one's bridges, veths and table as they are. A network whose deletion a crash
     * cut short (recorded, bridge not yet deleted) loses its bridge at the next start.
     */
    @Test
    void aDriverLeavesAnotherDaemonsLinksAndRulesAlone() throws Exception {
        Network cut = driver.createNetwork("cut", Map.of());
        Path stateFile = root.resolve("state.json");
        BridgeState.load(stateFile).without("cut").withPending(cut.hostInterface()).save(stateFile);
        BridgeNetworkDriver first = open();
        assertFalse(testBridges().contains(cut.hostInterface()), "the half-deleted network's bridge is gone");

        Network mine = first.createNetwork("mine", Map.of());
        first.join("mine", "box", namespaces.create(), Map.of());
        first.publish("mine", "box", new PortMapping(Protocol.TCP, "", freePort(), 80));
        List<String> links = ourLinks().lines().toList();
        String rules = table();

        BridgeNetworkDriver other = new BridgeNetworkDriver(TestBridgeHost.otherDaemon(
                Files.createDirectories(temp.resolve("other"))));
        assertTrue(other.status().isActive(), () -> "status: " + other.status());
        Network theirs = other.createNetwork("theirs", Map.of());
        assertTrue(testBridges().contains(theirs.hostInterface()));
        other.deleteNetwork("theirs");
        BridgeNetworkDriver again = open(); // the first daemon restarts beside the other one

        assertEquals(rules, table(), "the first daemon's table is untouched");
        String linksNow = ourLinks();
        assertTrue(linksNow.lines().toList().containsAll(links), () -> "the first daemon's links, same indexes:\n"
                + links + "\nnow:\n" + linksNow);
        Set<String> bridges = testBridges();
        assertTrue(bridges.containsAll(Set.of(TestBridgeHost.DEFAULT_BRIDGE, mine.hostInterface(), "bt1")),
                () -> "both default bridges and the first daemon's network: " + bridges);
        assertFalse(testBridges().contains(theirs.hostInterface()), "the other daemon's deleted network is gone");
        assertEquals(first.endpoints("mine"), again.endpoints("mine"));
        assertTrue(NetCommands.check(List.of("nft", "list", "table", "ip", TestBridgeHost.OTHER_TABLE))
                .contains("\"bt1\""), "the other daemon has its own table");
    }

    @Test
    void ipamNeverHandsOutAnAddressTwiceAndRemembersAcrossInstances() throws Exception {
        // a /29: .1 is the gateway, .2 to .6 for endpoints
        driver.createNetwork("small", Map.of(OPTION_SUBNET, "172.29.8.0/29"));
        Map<String, Path> netns = new HashMap<>();
        for (String id : List.of("e1", "e2", "e3", "e4", "e5", "e6", "e7")) {
            netns.put(id, namespaces.create());
        }
        assertEquals("172.29.8.2", driver.join("small", "e1", netns.get("e1"), Map.of()).ipv4());
        assertEquals("172.29.8.3", driver.join("small", "e2", netns.get("e2"), Map.of()).ipv4());
        assertEquals("172.29.8.4", driver.join("small", "e3", netns.get("e3"), Map.of()).ipv4());
        driver.leave("small", "e2");
        assertEquals("172.29.8.5", driver.join("small", "e4", netns.get("e4"), Map.of()).ipv4(),
                "a released address is not handed out again at once");
        BridgeNetworkDriver again = open();
        assertEquals("172.29.8.6", again.join("small", "e5", netns.get("e5"), Map.of()).ipv4(),
                "a new instance continues where the last left off");
        assertEquals("172.29.8.3", again.join("small", "e6", netns.get("e6"), Map.of()).ipv4(),
                "then the released address is used again");
        String full = refusal(() -> again.join("small", "e7", netns.get("e7"), Map.of()));
        assertTrue(full.contains("no available"), full);
        assertEquals(1, NetCommands.inNamespace(netns.get("e7"), "ip", "-o", "link", "show").lines().count(),
                "a refused join leaves the namespace as it was");

        List<Endpoint> endpoints = again.endpoints("small");
        Set<String> addresses = new HashSet<>();
        for (Endpoint endpoint : endpoints) {
            assertTrue(addresses.add(endpoint.ipv4()), () -> "handed out twice: " + endpoint.ipv4());
            int address = Ipv4Subnet.parseAddress(endpoint.ipv4(), "address");
            assertEquals(BridgeNetworkDriver.macFor(address), endpoint.macAddress());
            assertTrue(endpoint.macAddress().startsWith("02:42:ac:1d:08:"), endpoint.macAddress());
        }
        assertEquals(5, addresses.size());
    }

    // --- helpers ------------------------------------------------------------------------------

    private Network network(String id) {
        return driver.networks().stream().filter(n -> n.networkId().equals(id)).findFirst().orElseThrow();
    }

    private Path site(String text) throws IOException {
        Path dir = Files.createTempDirectory(temp, "site");
        Files.writeString(dir.resolve("index.html"), text);
        return dir;
    }

    private static String table() throws IOException {
        return NetCommands.check(List.of("nft", "list", "table", "ip", TestBridgeHost.TABLE));
    }

    /** The test bridges and veths with their interface indexes: what re-adoption must keep as it is. */
    private static String ourLinks() throws IOException {
        StringBuilder links = new StringBuilder();
        for (String line : NetCommands.ip("-o", "link", "show").lines().toList()) {
            String name = line.split(": ")[1].split("@")[0];
            if (TestBridgeHost.isTestLink(name)) {
                links.append(line, 0, line.indexOf(">")).append('\n');
            }
        }
        return links.toString();
    }

    private static Set<String> testBridges() throws IOException {
        Set<String> bridges = new HashSet<>(HostLinks.links("bridge").keySet());
        bridges.removeIf(name -> !TestBridgeHost.isTestLink(name));
        return bridges;
    }

    /** The host's first global IPv4 address (its own, so traffic to it stays on this machine). */
    private static String hostAddress() throws IOException {
        for (String line : NetCommands.ip("-4", "-o", "addr", "show", "scope", "global").lines().toList()) {
            String[] fields = line.trim().split("\\s+");
            String device = fields[1];
            if (!device.startsWith("bt") && !device.startsWith("bx")) {
                return fields[3].substring(0, fields[3].indexOf('/'));
            }
        }
        throw new IllegalStateException("this host has no global IPv4 address to test published ports on");
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static List<String> curlCommand(String host, int port) {
        return List.of("curl", "-sS", "--max-time", "3", "http://" + host + ":" + port + "/");
    }

    private static String curl(String host, int port) throws IOException {
        return NetCommands.check(curlCommand(host, port)).trim();
    }

    private static String refusal(Executable action) {
        return assertThrows(IllegalArgumentException.class, action).getMessage();
    }
}
