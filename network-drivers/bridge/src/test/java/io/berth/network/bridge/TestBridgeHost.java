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

    /** The table of a second driver instance, standing for another daemon on the same host. */
    static final String OTHER_TABLE = "berth_t1";

    private TestBridgeHost() {
    }

    static BridgeSettings settings(Path root) {
        return new BridgeSettings(root, TABLE, DEFAULT_BRIDGE, "bt", "vbt");
    }

    /** Another daemon's driver: the same prefixes (as two berth daemons have), its own default bridge and table. */
    static BridgeSettings otherDaemon(Path root) {
        return new BridgeSettings(root, OTHER_TABLE, "bt1", "bt", "vbt");
    }

    /** Whether a link is one the tests' drivers or the tests themselves made: named {@code bt*} or {@code vbt*}. */
    static boolean isTestLink(String name) {
        return name.startsWith("bt") || name.startsWith("vbt");
    }

    /** Deletes the test bridges and veths and the test tables, whatever state they are in. */
    static void removeLeftovers() throws IOException {
        for (String type : List.of("veth", "bridge")) {
            for (String link : HostLinks.links(type).keySet()) {
                if (isTestLink(link)) {
                    HostLinks.deleteIfExists(link);
                }
            }
        }
        for (String table : List.of(TABLE, OTHER_TABLE)) {
            if (NetCommands.run(List.of("nft", "list", "table", "ip", table)).exitCode() == 0) {
                NetCommands.check(List.of("nft", "delete", "table", "ip", table));
            }
        }
    }
}
