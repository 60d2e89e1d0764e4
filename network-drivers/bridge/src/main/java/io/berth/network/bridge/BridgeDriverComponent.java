package io.berth.network.bridge;

import io.berth.network.support.DriverRegistration;
import io.berth.spi.network.NetworkDriver;
import java.io.IOException;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * Registers the bridge driver, rooted at {@code <data-root>/network/bridge/}.
 * Stopping it leaves bridges, veths and rules in place: the next instance
 * re-adopts them.
 */
@Component
public class BridgeDriverComponent {

    private final ServiceRegistration<NetworkDriver> registration;

    @Activate
    public BridgeDriverComponent(BundleContext context) throws IOException {
        registration = DriverRegistration.register(context, BridgeNetworkDriver.NAME, root -> new BridgeNetworkDriver(BridgeSettings.defaults(root)));
    }

    @Deactivate
    void stop() {
        registration.unregister();
    }
}
