package io.berth.network.bridge;

import java.nio.file.Path;

/**
 * Where the bridge driver keeps its state and how it names what it creates
 * on the host. Everything named with these prefixes (and only that) is the
 * driver's: a new instance removes such links when its state does not name
 * them. Tests use their own names so they never meet a running daemon's.
 *
 * @param root          the driver's directory, {@code <data-root>/network/bridge}
 * @param table         its nftables table (family {@code ip})
 * @param defaultBridge the Linux bridge of the default network {@code bridge}
 * @param bridgePrefix  how the bridges of user networks start ({@code br-} + 12 hex digits)
 * @param vethPrefix    how the host ends of veth pairs start (+ 8 hex digits; at most 6 characters)
 */
public record BridgeSettings(Path root, String table, String defaultBridge, String bridgePrefix, String vethPrefix) {

    public BridgeSettings {
        if (vethPrefix.length() > 6 || vethPrefix.length() < 2) {
            throw new IllegalArgumentException("the veth prefix must have 2 to 6 characters: " + vethPrefix);
        }
        if (bridgePrefix.length() > 3 || defaultBridge.length() > 15) {
            throw new IllegalArgumentException("bridge names must fit in 15 characters");
        }
    }

    /** Docker's names, berth-flavoured: table {@code berth}, bridge {@code berth0}, {@code br-*}, {@code vberth*}. */
    public static BridgeSettings defaults(Path root) {
        return new BridgeSettings(root, "berth", "berth0", "br-", "vberth");
    }

    /** Whether a bridge of this name is the driver's: a user network's, or named like the default one. */
    boolean ownsBridge(String name) {
        return name.startsWith(bridgePrefix) || name.startsWith(defaultBridge.replaceAll("[0-9]+$", ""));
    }

    boolean ownsVeth(String name) {
        return name.startsWith(vethPrefix);
    }
}
