package io.berth.network.testsuite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.berth.network.support.NetCommands;
import io.berth.spi.driver.DriverStatus;
import io.berth.spi.network.Endpoint;
import io.berth.spi.network.Network;
import io.berth.spi.network.NetworkDriver;
import io.berth.spi.network.PortMapping;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one conformance suite every network driver runs. A driver module
 * subclasses it with a factory ({@link #newDriver}) and the
 * {@link NetworkCapability abilities} it declares; each test gets a fresh
 * driver root and its own network namespaces ({@code berth-t-*}), removed
 * afterwards, as is whatever the driver created ({@link #removeHostLeftovers}).
 * A test is skipped only when the driver does not declare what it needs.
 */
public abstract class NetworkDriverConformanceTest {

    @TempDir
    protected Path temp;

    protected final TestNamespaces namespaces = new TestNamespaces();
    protected NetworkDriver driver;

    /** A driver rooted at {@code root}; a second call with the same root is a new instance re-adopting the first's state. */
    protected abstract NetworkDriver newDriver(Path root) throws Exception;

    /** The driver's name, which its networks report. */
    protected abstract String driverName();

    protected abstract Set<NetworkCapability> capabilities();

    /** Removes whatever the driver may have left on the host (links, rules); called after every test, also a failed one. */
    protected void removeHostLeftovers() throws Exception {
    }

    /** The network joins go to: the driver's predefined one. */
    protected String networkToJoin() {
        return driver.networks().get(0).networkId();
    }

    protected Path root() {
        return temp.resolve("driver");
    }

    @BeforeEach
    void createDriver() throws Exception {
        Files.createDirectories(root());
        driver = newDriver(root());
    }

    @AfterEach
    void removeNamespacesAndLeftovers() throws Exception {
        try {
            namespaces.close();
        } finally {
            removeHostLeftovers();
        }
    }

    @Test
    void isActiveAsRoot() {
        DriverStatus status = driver.status();
        assertTrue(status.isActive(), () -> "status: " + status);
    }

    @Test
    void listsAPredefinedNetworkUnderItsOwnName() {
        List<Network> networks = driver.networks();
        assertFalse(networks.isEmpty(), "a driver has its predefined network from the start");
        for (Network network : networks) {
            assertEquals(driverName(), network.driver());
        }
    }

    @Test
    void joinListsTheEndpointAndLeaveRemovesIt() throws Exception {
        Path netns = namespaces.create();
        Endpoint endpoint = driver.join(networkToJoin(), "ep1", netns, Map.of());
        assertEquals("ep1", endpoint.endpointId());
        assertEquals(networkToJoin(), endpoint.networkId());
        assertEquals(List.of("ep1"), endpointIds());

        driver.leave(networkToJoin(), "ep1");
        assertEquals(List.of(), endpointIds());
        driver.leave(networkToJoin(), "ep1"); // leaving twice is not an error
    }

    @Test
    void aNewInstanceListsTheSameEndpoints() throws Exception {
        Path netns = namespaces.create();
        Endpoint joined = driver.join(networkToJoin(), "ep1", netns, Map.of());
        NetworkDriver again = newDriver(root());
        assertTrue(again.status().isActive(), () -> "status: " + again.status());
        assertEquals(List.of(joined), again.endpoints(networkToJoin()));
        again.leave(networkToJoin(), "ep1");
        assertEquals(List.of(), again.endpoints(networkToJoin()));
    }

    @Test
    void badIdsUnknownNetworksAndDoubleJoinsAreRefusedAndRecordNothing() throws Exception {
        Path netns = namespaces.create();
        IllegalArgumentException badId = assertThrows(IllegalArgumentException.class,
                () -> driver.join(networkToJoin(), "../escape", netns, Map.of()));
        assertTrue(badId.getMessage().contains("../escape"), badId.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> driver.join("no-such-network", "ep1", netns, Map.of()));
        assertTrue(unknown.getMessage().contains("no-such-network"), unknown.getMessage());
        assertEquals(List.of(), endpointIds());

        driver.join(networkToJoin(), "ep1", netns, Map.of());
        Path other = namespaces.create();
        assertThrows(IllegalArgumentException.class, () -> driver.join(networkToJoin(), "ep1", other, Map.of()));
        assertEquals(List.of("ep1"), endpointIds());
        driver.leave(networkToJoin(), "ep1");
    }

    @Test
    void joinBringsUpLoopbackInTheNamespace() throws Exception {
        assumeTrue(capabilities().contains(NetworkCapability.OWN_NAMESPACE));
        Path netns = namespaces.create();
        Endpoint endpoint = driver.join(networkToJoin(), "ep1", netns, Map.of());
        assertFalse(endpoint.hostNamespace());
        String lo = NetCommands.inNamespace(netns, "ip", "-o", "link", "show", "dev", "lo");
        assertTrue(lo.contains("<LOOPBACK,UP,LOWER_UP>"), lo);
        if (!capabilities().contains(NetworkCapability.INTERFACES)) {
            String links = NetCommands.inNamespace(netns, "ip", "-o", "link", "show");
            assertEquals(1, links.lines().count(), () -> "only lo is left: " + links);
            assertEquals("", endpoint.ipv4Address());
        }
        driver.leave(networkToJoin(), "ep1");
    }

    @Test
    void aMissingNamespaceIsRefusedAndRecordsNothing() {
        assumeTrue(capabilities().contains(NetworkCapability.OWN_NAMESPACE));
        Path missing = TestNamespaces.path(TestNamespaces.PREFIX + "missing");
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> driver.join(networkToJoin(), "ep1", missing, Map.of()));
        assertTrue(refused.getMessage().contains(missing.toString()), refused.getMessage());
        assertEquals(List.of(), endpointIds());
    }

    @Test
    void joinGivesTheNamespaceAnInterfaceWithTheEndpointsAddressMacAndGateway() throws Exception {
        assumeTrue(capabilities().contains(NetworkCapability.INTERFACES));
        Path netns = namespaces.create();
        Endpoint endpoint = driver.join(networkToJoin(), "ep1", netns, Map.of());
        assertEquals("eth0", endpoint.interfaceName());
        String link = NetCommands.inNamespace(netns, "ip", "-o", "link", "show", "dev", "eth0");
        assertTrue(link.contains("link/ether " + endpoint.macAddress()), link);
        String addr = NetCommands.inNamespace(netns, "ip", "-o", "-4", "addr", "show", "dev", "eth0");
        assertTrue(addr.contains("inet " + endpoint.ipv4Address() + " "), addr);
        String route = NetCommands.inNamespace(netns, "ip", "route", "show", "default");
        assertTrue(route.contains("default via " + endpoint.gateway() + " dev eth0"), route);

        driver.leave(networkToJoin(), "ep1");
        String after = NetCommands.inNamespace(netns, "ip", "-o", "link", "show");
        assertFalse(after.contains("eth0"), () -> "leave removes the interface: " + after);
    }

    @Test
    void hostNamespaceEndpointsCreateNothing() throws Exception {
        assumeTrue(capabilities().contains(NetworkCapability.HOST_NAMESPACE));
        String linksBefore = NetCommands.ip("-o", "link", "show");
        Endpoint endpoint = driver.join(networkToJoin(), "ep1", null, Map.of());
        assertTrue(endpoint.hostNamespace());
        assertEquals("", endpoint.interfaceName());
        assertEquals("", endpoint.ipv4Address());
        assertEquals(linksBefore, NetCommands.ip("-o", "link", "show"));
        driver.leave(networkToJoin(), "ep1");
    }

    @Test
    void networksCannotBeCreatedOrRemovedWithoutThatAbility() {
        assumeTrue(!capabilities().contains(NetworkCapability.USER_NETWORKS));
        assertThrows(IllegalArgumentException.class, () -> driver.createNetwork("mine", Map.of()));
        IllegalArgumentException predefined = assertThrows(IllegalArgumentException.class,
                () -> driver.deleteNetwork(networkToJoin()));
        assertTrue(predefined.getMessage().contains("pre-defined"), predefined.getMessage());
        assertEquals(1, driver.networks().size());
    }

    @Test
    void userNetworksAreCreatedJoinedAndDeleted() throws Exception {
        assumeTrue(capabilities().contains(NetworkCapability.USER_NETWORKS));
        int before = driver.networks().size();
        Network network = driver.createNetwork("user1", Map.of());
        assertEquals(driverName(), network.driver());
        assertEquals(before + 1, driver.networks().size());
        assertThrows(IllegalArgumentException.class, () -> driver.createNetwork("user1", Map.of()));

        Path netns = namespaces.create();
        driver.join("user1", "ep1", netns, Map.of());
        IllegalArgumentException inUse = assertThrows(IllegalArgumentException.class, () -> driver.deleteNetwork("user1"));
        assertTrue(inUse.getMessage().contains("ep1"), inUse.getMessage());
        driver.leave("user1", "ep1");
        driver.deleteNetwork("user1");
        assertEquals(before, driver.networks().size());
        assertThrows(IllegalArgumentException.class, () -> driver.deleteNetwork("user1"));
    }

    @Test
    void publishingIsRefusedWithoutThatAbility() throws Exception {
        assumeTrue(!capabilities().contains(NetworkCapability.PUBLISH));
        Path netns = capabilities().contains(NetworkCapability.HOST_NAMESPACE) ? null : namespaces.create();
        driver.join(networkToJoin(), "ep1", netns, Map.of());
        assertThrows(UnsupportedOperationException.class, () -> driver.publish(networkToJoin(), "ep1",
                new PortMapping(PortMapping.Protocol.TCP, "", 18080, 80)));
        driver.leave(networkToJoin(), "ep1");
    }

    private List<String> endpointIds() {
        return driver.endpoints(networkToJoin()).stream().map(Endpoint::endpointId).toList();
    }

    /** Whether {@code text} names something of {@code names}; for checking that nothing was left. */
    protected static boolean mentionsAny(String text, List<String> names) {
        return names.stream().anyMatch(text::contains);
    }

    /** The host's full nftables ruleset, as {@code nft list ruleset} prints it. */
    protected static String ruleset() throws IOException {
        return NetCommands.check(List.of("nft", "list", "ruleset"));
    }
}
