package io.berth.network.bridge;

import io.berth.network.testsuite.NetworkCapability;
import io.berth.network.testsuite.NetworkDriverConformanceTest;
import io.berth.spi.network.NetworkDriver;
import java.nio.file.Path;
import java.util.Set;

/** bridge runs the network conformance suite, with the test names of {@link TestBridgeHost}. */
class BridgeConformanceTest extends NetworkDriverConformanceTest {

    @Override
    protected NetworkDriver newDriver(Path root) {
        return new BridgeNetworkDriver(TestBridgeHost.settings(root));
    }

    @Override
    protected String driverName() {
        return BridgeNetworkDriver.NAME;
    }

    @Override
    protected Set<NetworkCapability> capabilities() {
        return Set.of(NetworkCapability.OWN_NAMESPACE, NetworkCapability.INTERFACES, NetworkCapability.USER_NETWORKS,
                NetworkCapability.PUBLISH);
    }

    @Override
    protected String networkToJoin() {
        return BridgeNetworkDriver.DEFAULT_NETWORK;
    }

    @Override
    protected void removeHostLeftovers() throws Exception {
        TestBridgeHost.removeLeftovers();
    }
}
