package io.berth.network.bridge;

import io.berth.network.support.NetCommands;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The names the bridge tests give the driver (never the daemon's {@code berth*} or
 * table {@code berth}, so a running daemon and the tests leave
 * each other alone), and the removal of whatever a test left on the host.
 */
final class TestBridgeHost {

    static final String TABLE = "berth_t";
    static final String DEFAULT_BRIDGE = "bt0";

    private TestBridgeHost() {
    }

    static BridgeSettings settings(Path root) {
        return new BridgeSettings(root, TABLE, DEFAULT_BRIDGE, "bt", "vbt");
    }

    /** Deletes the test bridges and veths and the test table, whatever state they are in. */
    static void removeLeftovers() throws IOException {
        BridgeSettings settings = settings(Path.of("/nonexistent"));
        for (String type : List.of("veth", "bridge")) {
            for (String link : HostLinks.links(type).keySet()) {
                if (type.equals("veth") ? settings.ownsVeth(link) : settings.ownsBridge(link)) {
                    HostLinks.deleteIfExists(link);
                }
            }
        }
        if (NetCommands.run(List.of("nft", "list", "table", "ip", TABLE)).exitCode() == 0) {
            NetCommands.check(List.of("nft", "delete", "table", "ip", TABLE));
        }
    }
}
