package io.berth.containers.networks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.network.bridge.BridgeNetworkDriver;
import io.berth.network.bridge.BridgeSettings;
import io.berth.network.host.HostNetworkDriver;
import io.berth.network.none.NoneNetworkDriver;
import io.berth.spi.network.Endpoint;
import io.berth.spi.network.NetworkDriver;
import io.berth.spi.network.NetworkResource;
import io.berth.storage.support.Commands;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry over the real drivers, the bridge with names of its own ({@code bnr0}, {@code bnr*}, {@code vbnr*},
 * table {@code berth_nr}) and a network namespace made here; everything is removed afterwards. Needs root.
 */
class NetworkRegistryTest {

    private static final String NETNS = "berth-t-nr1";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private final Map<String, NetworkDriver> drivers = new TreeMap<>();

    @BeforeEach
    void drivers() throws Exception {
        drivers.put("bridge", new BridgeNetworkDriver(new BridgeSettings(dir.resolve("bridge"), "berth_nr", "bnr0",
                "bnr", "vbnr")));
        drivers.put("host", new HostNetworkDriver(dir.resolve("host")));
        drivers.put("none", new NoneNetworkDriver(dir.resolve("none")));
        Commands.check(List.of("ip", "netns", "add", NETNS), null, TIMEOUT);
    }

    @AfterEach
    void cleanUp() throws Exception {
        Commands.run(List.of("ip", "netns", "delete", NETNS), null, TIMEOUT);
        String links = Commands.run(List.of("ip", "-o", "link", "show"), null, TIMEOUT).stdout();
        for (String line : links.split("\n")) {
            String[] fields = line.split(":\\s+");
            if (fields.length > 1) {
                String name = fields[1].split("@")[0];
                if (name.startsWith("bnr") || name.startsWith("vbnr")) {
                    Commands.run(List.of("ip", "link", "delete", name), null, TIMEOUT);
                }
            }
        }
        Commands.run(List.of("nft", "delete", "table", "ip", "berth_nr"), null, TIMEOUT);
    }

    private NetworkRegistry registry() throws Exception {
        return new NetworkRegistry(dir.resolve("networks"), drivers::get, () -> List.copyOf(drivers.keySet()));
    }

    @Test
    void thePredefinedNetworksAreListedWithIdsThatLast() throws Exception {
        List<NetworkResource> first = registry().list();
        assertEquals(List.of("bridge", "host", "none"), first.stream().map(NetworkResource::name).toList());
        assertTrue(first.get(0).id().matches("[0-9a-f]{64}"));
        assertFalse(first.get(0).ipam().config().isEmpty(), "the default bridge has its subnet");
        assertEquals(first, registry().list(), "the same ids for a new instance");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> registry().remove("host"));
        assertTrue(e.getMessage().contains("pre-defined network"), e.getMessage());
    }

    @Test
    void aUserNetworkIsCreatedFoundConnectedAndRemovedOnlyWhenEmpty() throws Exception {
        NetworkRegistry registry = registry();
        NetworkResource front = registry.create("front", null, Map.of("subnet", "10.231.7.0/24"), Map.of("team", "a"));
        assertEquals("bridge", front.driver());
        assertEquals("10.231.7.0/24", front.ipam().config().get(0).subnet());
        assertEquals(front.id(), registry.inspect(front.id().substring(0, 6)).id());
        assertThrows(IllegalStateException.class, () -> registry.create("front", null, Map.of(), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> registry.create("-bad", null, Map.of(), Map.of()));
        assertThrows(NoSuchElementException.class, () -> registry.create("x1", "nosuch", Map.of(), Map.of()));
        assertThrows(NoSuchElementException.class, () -> registry.inspect("nosuch"));

        String container = "c".repeat(64);
        Endpoint endpoint = registry.connect("front", container, "web", Path.of("/run/netns/" + NETNS),
                List.of("www"), List.of());
        assertTrue(endpoint.ipv4().startsWith("10.231.7."), endpoint.toString());
        NetworkResource.Attached attached = registry.inspect("front").containers().get(container);
        assertEquals("web", attached.name());
        assertEquals(Map.of(endpoint.ipv4(), List.of("web", "www")), registry.namesByAddress("front"));
        IllegalStateException inUse = assertThrows(IllegalStateException.class, () -> registry.remove("front"));
        assertTrue(inUse.getMessage().contains("has active endpoints"), inUse.getMessage());
        assertEquals(List.of(), registry.prune(), "a network with a container stays");

        registry.disconnect("front", container);
        assertTrue(registry.inspect("front").containers().isEmpty());
        registry.create("spare", "bridge", Map.of(), Map.of());
        assertEquals(List.of("front", "spare"), registry.prune());
        assertEquals(List.of("bridge", "host", "none"), registry.list().stream().map(NetworkResource::name).toList());
        assertFalse(Commands.run(List.of("ip", "-o", "link", "show"), null, TIMEOUT).stdout().contains("bnr")
                && Commands.run(List.of("ip", "-o", "addr", "show"), null, TIMEOUT).stdout().contains("10.231.7."),
                "nothing of the removed networks is left on the host");
    }
}
