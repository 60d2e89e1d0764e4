package io.berth.network.bridge;

import io.berth.network.bridge.BridgeState.NetworkRecord;
import io.berth.network.bridge.BridgeState.Published;
import io.berth.network.support.NetCommands;
import io.berth.spi.network.PortMapping;
import io.berth.storage.support.DiskFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The bridge driver's nftables rules: one table of its own ({@code table ip
 * berth}), always rebuilt whole from the driver's state and loaded as one
 * atomic {@code nft -f} transaction (create the table, delete it, create it
 * with its chains). So a rule is never doubled, a re-adopting instance never
 * leaves a gap in which packets meet no rules, and no other table is touched.
 *
 * <p>Published ports are DNAT rules rather than a userland proxy: the kernel
 * keeps forwarding while the driver's bundle is updated or the daemon is
 * down, and connections keep their conntrack entries. Loopback needs three
 * things: the output-chain DNAT (locally made packets never see prerouting),
 * {@code route_localnet=1} on the bridge (set with the bridge), and a
 * masquerade of 127.0.0.0/8 sources leaving through the bridge, so the
 * container can answer.
 */
final class Firewall {

    private final String table;
    private final Path rulesetFile;

    /**
     * @param table       the name of the driver's own table (family {@code ip})
     * @param rulesetFile where the last loaded ruleset is kept (for operators, and to load it from)
     */
    Firewall(String table, Path rulesetFile) {
        this.table = table;
        this.rulesetFile = rulesetFile;
    }

    /** Replaces the driver's table with the rules {@code state} calls for, in one transaction. */
    void apply(BridgeState state) throws IOException {
        DiskFiles.writeAtomically(rulesetFile, render(state));
        NetCommands.check(List.of("nft", "-f", rulesetFile.toString()));
    }

    /** The ruleset as an {@code nft -f} script: the table is created (if missing), deleted and created again. */
    String render(BridgeState state) {
        List<NetworkRecord> networks = List.copyOf(state.networks().values());
        StringBuilder nft = new StringBuilder();
        nft.append("table ip ").append(table).append('\n');
        nft.append("delete table ip ").append(table).append('\n');
        nft.append("table ip ").append(table).append(" {\n");

        nft.append("  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n")
                .append("    fib daddr type local jump published\n  }\n");
        nft.append("  chain output {\n    type nat hook output priority -100; policy accept;\n")
                .append("    fib daddr type local jump published\n  }\n");

        nft.append("  chain published {\n");
        for (Published published : state.published()) {
            PortMapping port = published.port();
            String proto = port.protocol().label();
            String match = PortMapping.ANY_HOST_IP.equals(port.hostIp()) ? "" : "ip daddr " + port.hostIp() + " ";
            nft.append("    ").append(match).append(proto).append(" dport ").append(port.hostPort())
                    .append(" dnat to ").append(published.endpoint().address()).append(':').append(port.containerPort()).append('\n');
        }
        nft.append("  }\n");

        nft.append("  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n");
        for (NetworkRecord network : networks) {
            String bridge = quote(network.bridge());
            nft.append("    oifname ").append(bridge).append(" ip saddr 127.0.0.0/8 masquerade\n");
            if (!network.internal()) {
                nft.append("    ip saddr ").append(network.subnet()).append(" oifname != ").append(bridge).append(" masquerade\n");
            }
        }
        for (Published published : state.published()) {
            // hairpin: a container reaching its own published port through a host address
            String address = published.endpoint().address();
            PortMapping port = published.port();
            nft.append("    ip saddr ").append(address).append(" ip daddr ").append(address).append(' ')
                    .append(port.protocol().label()).append(" dport ").append(port.containerPort()).append(" masquerade\n");
        }
        nft.append("  }\n");

        nft.append("  chain forward {\n    type filter hook forward priority filter; policy accept;\n");
        for (NetworkRecord network : networks) {
            String bridge = quote(network.bridge());
            if (network.internal()) {
                nft.append("    iifname ").append(bridge).append(" oifname != ").append(bridge).append(" drop\n");
                nft.append("    oifname ").append(bridge).append(" iifname != ").append(bridge).append(" drop\n");
            }
            String others = networks.stream().filter(other -> other != network)
                    .map(other -> quote(other.bridge())).collect(Collectors.joining(", "));
            if (!others.isEmpty()) {
                nft.append("    iifname ").append(bridge).append(" oifname { ").append(others).append(" } drop\n");
            }
        }
        nft.append("  }\n}\n");
        return nft.toString();
    }

    private static String quote(String name) {
        return '"' + name + '"';
    }
}
