package io.berth.network.none;

import io.berth.network.testsuite.NetworkCapability;
import io.berth.network.testsuite.NetworkDriverConformanceTest;
import io.berth.spi.network.NetworkDriver;
import java.nio.file.Path;
import java.util.Set;

/** none runs the network conformance suite: its namespaces keep only loopback. */
class NoneConformanceTest extends NetworkDriverConformanceTest {

    @Override
    protected NetworkDriver newDriver(Path root) throws Exception {
        return new NoneNetworkDriver(root);
    }

    @Override
    protected String driverName() {
        return NoneNetworkDriver.NAME;
    }

    @Override
    protected Set<NetworkCapability> capabilities() {
        return Set.of(NetworkCapability.OWN_NAMESPACE);
    }
}
