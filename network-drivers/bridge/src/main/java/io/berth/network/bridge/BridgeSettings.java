package io.berth.network.bridge;

import java.nio.file.Path;

/**
 * Where the bridge driver keeps its state and how it names what it creates
 * on the host. A name's prefix does not make a link the driver's: only its
 * state does (another daemon on the host may use the same prefixes), and its
 * nftables table is its own by name. Tests use their own names so they never
 * meet a running daemon's.
 *
 * @param root          the driver's directory, {@code <data-root>/network/bridge}
 * @param table         its nftables table (family {@code ip})
 * @param defaultBridge the Linux bridge of the default network {@code bridge}
 * @param bridgePrefix  how the bridges of user networks start (then hex digits of the network id's hash, up to
 *                      15 characters)
 * @param vethPrefix    how the host ends of veth pairs start (+ 8 hex digits; at most 6 characters)
 */
public record BridgeSettings(Path root, String table, String defaultBridge, String bridgePrefix, String vethPrefix) {

    public BridgeSettings {
        if (vethPrefix.length() > 6 || vethPrefix.length() < 2) {
            throw new IllegalArgumentException("the veth prefix must have 2 to 6 characters: " + vethPrefix);
        }
        if (bridgePrefix.length() < 2 || bridgePrefix.length() > 6 || defaultBridge.isEmpty() || defaultBridge.length() > 15) {
            throw new IllegalArgumentException("bridge names must fit in 15 characters and leave room for a hash: "
                    + defaultBridge + ", " + bridgePrefix);
        }
    }

    /**
     * Default bridge {@code berth0} (or daemon.json's {@code bridge}), user
     * bridges {@code berth<hash>} and veths {@code vberth<hash>}; not Docker's
     * {@code br-<hash>}, so a dockerd on the same host keeps its bridges. The
     * table is {@code berth} for {@code berth0} and {@code berth_<bridge>} for
     * any other default bridge: two daemons on one host (with different
     * default bridges, as they must have) never load each other's table.
     */
    public static BridgeSettings defaults(Path root, String defaultBridge) {
        String table = "berth0".equals(defaultBridge) ? "berth" : "berth_" + defaultBridge;
        return new BridgeSettings(root, table, defaultBridge, "berth", "vberth");
    }
}
