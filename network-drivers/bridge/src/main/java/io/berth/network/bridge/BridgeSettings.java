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
 * @param bridgePrefix  how the bridges of user networks start (then hex digits up to 15 characters); every
 *                      bridge so named is the driver's, as is {@code defaultBridge}
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
     * Table {@code berth}, default bridge {@code berth0} (or daemon.json's
     * {@code bridge}), user bridges {@code berth<hash>} and veths
     * {@code vberth<hash>}. Not Docker's {@code br-<hash>}: a dockerd on the
     * same host keeps its bridges.
     */
    public static BridgeSettings defaults(Path root, String defaultBridge) {
        return new BridgeSettings(root, "berth", defaultBridge, "berth", "vberth");
    }

    /** Whether a bridge of this name is the driver's: the default one, or named like a user network's. */
    boolean ownsBridge(String name) {
        return name.startsWith(bridgePrefix) || name.equals(defaultBridge);
    }

    boolean ownsVeth(String name) {
        return name.startsWith(vethPrefix);
    }
}
