package io.berth.network.host;

import io.berth.network.testsuite.NetworkCapability;
import io.berth.network.testsuite.NetworkDriverConformanceTest;
import io.berth.spi.network.NetworkDriver;
import java.nio.file.Path;
import java.util.Set;

/** host runs the network conformance suite: its endpoints are the host's namespace. */
class HostConformanceTest extends NetworkDriverConformanceTest {

    @Override
    protected NetworkDriver newDriver(Path root) throws Exception {
        return new HostNetworkDriver(root);
    }

    @Override
    protected String driverName() {
        return HostNetworkDriver.NAME;
    }

    @Override
    protected Set<NetworkCapability> capabilities() {
        return Set.of(NetworkCapability.HOST_NAMESPACE);
    }
}
