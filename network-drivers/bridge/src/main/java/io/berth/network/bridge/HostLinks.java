package io.berth.network.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.network.support.NetCommands;
import io.berth.storage.support.Commands;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The bridge driver's view of the host's links, addresses and routes, read
 * with {@code ip -j} and changed with {@code ip}. Inside a container's
 * namespace it works through {@code nsenter}.
 */
final class HostLinks {

    private static final ObjectMapper JSON = new ObjectMapper();

    private HostLinks() {
    }

    /** The names of the host's links of a type ({@code bridge}, {@code veth}), with their master ({@code ""} if none). */
    static Map<String, String> links(String type) throws IOException {
        Map<String, String> links = new TreeMap<>();
        for (JsonNode link : json(NetCommands.ip("-j", "link", "show", "type", type))) {
            links.put(link.path("ifname").asText(), link.path("master").asText(""));
        }
        return links;
    }

    static boolean exists(String link) throws IOException {
        return NetCommands.run(List.of("ip", "link", "show", "dev", link)).exitCode() == 0;
    }

    /**
     * Deletes a link if it is there (a veth takes its peer along). A link that
     * vanishes meanwhile is fine: the kernel removes a veth by itself when the
     * namespace of its peer goes away, a moment after the namespace does.
     */
    static void deleteIfExists(String link) throws IOException {
        Commands.Result result = NetCommands.run(List.of("ip", "link", "delete", "dev", link));
        if (result.exitCode() != 0 && exists(link)) {
            throw new IOException("ip link delete dev " + link + " failed (exit " + result.exitCode() + "): " + result.message());
        }
    }

    /** The IPv4 addresses on a host link, in CIDR form. */
    static Set<String> addresses(String link) throws IOException {
        Set<String> addresses = new TreeSet<>();
        for (JsonNode entry : json(NetCommands.ip("-4", "-j", "addr", "show", "dev", link))) {
            for (JsonNode info : entry.path("addr_info")) {
                addresses.add(info.path("local").asText() + "/" + info.path("prefixlen").asInt());
            }
        }
        return addresses;
    }

    /**
     * The IPv4 subnets the host already uses, from its main routing table and
     * its interface addresses, leaving out those on {@code ownLinks} (the
     * driver's own bridges). Default routes say nothing about a subnet.
     */
    static List<Ipv4Subnet> hostSubnets(Set<String> ownLinks) throws IOException {
        List<Ipv4Subnet> subnets = new ArrayList<>();
        for (JsonNode route : json(NetCommands.ip("-4", "-j", "route", "show", "table", "main"))) {
            String dst = route.path("dst").asText("");
            if (dst.isEmpty() || dst.equals("default") || ownLinks.contains(route.path("dev").asText())) {
                continue;
            }
            subnets.add(cidr(dst.contains("/") ? dst : dst + "/32"));
        }
        for (JsonNode entry : json(NetCommands.ip("-4", "-j", "addr", "show"))) {
            if (ownLinks.contains(entry.path("ifname").asText())) {
                continue;
            }
            for (JsonNode info : entry.path("addr_info")) {
                subnets.add(Ipv4Subnet.containing(Ipv4Subnet.parseAddress(info.path("local").asText(), "host address"),
                        info.path("prefixlen").asInt()));
            }
        }
        return subnets;
    }

    /** The names of the links inside the namespace at {@code netns}. */
    static Set<String> linksIn(Path netns) throws IOException {
        Set<String> names = new TreeSet<>();
        for (JsonNode link : json(NetCommands.inNamespace(netns, "ip", "-j", "link", "show"))) {
            names.add(link.path("ifname").asText());
        }
        return names;
    }

    /** Puts a host link on a bridge (a re-adopted veth that lost its master). */
    static void attach(String link, String bridge) throws IOException {
        NetCommands.ip("link", "set", "dev", link, "master", bridge);
    }

    /** Creates a Linux bridge with {@code gatewayCidr} on it, lets it carry DNAT-ed loopback traffic, and brings it up. */
    static void createBridge(String name, String gatewayCidr) throws IOException {
        NetCommands.ip("link", "add", "name", name, "type", "bridge");
        ensureBridgeUp(name, gatewayCidr);
    }

    /**
     * Makes an existing bridge carry its gateway address and be up, changing
     * only what is missing (a re-adopted bridge keeps forwarding meanwhile).
     * {@code route_localnet} lets the output-chain DNAT of 127.0.0.1 route to
     * the bridge; it lives and dies with the bridge.
     */
    static void ensureBridgeUp(String name, String gatewayCidr) throws IOException {
        if (!addresses(name).contains(gatewayCidr)) {
            NetCommands.ip("addr", "add", gatewayCidr, "dev", name);
        }
        Files.writeString(Path.of("/proc/sys/net/ipv4/conf", name, "route_localnet"), "1", StandardCharsets.US_ASCII);
        NetCommands.ip("link", "set", "dev", name, "up");
    }

    /**
     * Creates a veth pair with {@code hostEnd} on {@code bridge}, moves the
     * other end into the namespace at {@code netns} and sets it up there as
     * {@code interfaceName} with {@code mac}, {@code addressCidr} and, unless
     * {@code gateway} is empty and the namespace has none yet, a default route through it. On failure the
     * pair is deleted again (its namespace end with it).
     */
    static void createEndpoint(String hostEnd, String bridge, Path netns, String interfaceName, String mac,
                               String addressCidr, String gateway) throws IOException {
        String peer = "p" + hostEnd.substring(1);
        NetCommands.ip("link", "add", "name", hostEnd, "type", "veth", "peer", "name", peer);
        try {
            NetCommands.ip("link", "set", "dev", hostEnd, "master", bridge);
            NetCommands.ip("link", "set", "dev", hostEnd, "up");
            NetCommands.ip("link", "set", "dev", peer, "netns", netns.toString());
            NetCommands.inNamespace(netns, "ip", "link", "set", "dev", peer, "name", interfaceName, "address", mac);
            NetCommands.inNamespace(netns, "ip", "addr", "add", addressCidr, "dev", interfaceName);
            NetCommands.inNamespace(netns, "ip", "link", "set", "dev", interfaceName, "up");
            NetCommands.inNamespace(netns, "ip", "link", "set", "dev", "lo", "up");
            // The first network's gateway is the way out, as in Docker: a namespace joined to a second network
            // (docker network connect) keeps its default route and reaches the new one through its subnet.
            if (!gateway.isEmpty() && NetCommands.inNamespace(netns, "ip", "route", "show", "default").isBlank()) {
                NetCommands.inNamespace(netns, "ip", "route", "add", "default", "via", gateway, "dev", interfaceName);
            }
        } catch (IOException | RuntimeException e) {
            try {
                deleteIfExists(hostEnd);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    private static JsonNode json(String output) throws IOException {
        return output.isBlank() ? JSON.createArrayNode() : JSON.readTree(output);
    }

    private static Ipv4Subnet cidr(String text) {
        int slash = text.indexOf('/');
        return Ipv4Subnet.containing(Ipv4Subnet.parseAddress(text.substring(0, slash), "route"),
                Integer.parseInt(text.substring(slash + 1)));
    }
}
