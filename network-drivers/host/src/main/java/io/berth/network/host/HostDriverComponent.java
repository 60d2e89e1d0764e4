package io.berth.network.host;

import io.berth.network.support.DriverRegistration;
import io.berth.spi.network.NetworkDriver;
import java.io.IOException;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * Registers the host driver, rooted at {@code <data-root>/network/host/}.
 */
@Component
public class HostDriverComponent {

    private final ServiceRegistration<NetworkDriver> registration;

    @Activate
    public HostDriverComponent(BundleContext context) throws IOException {
        registration = DriverRegistration.register(context, HostNetworkDriver.NAME, HostNetworkDriver::new);
    }

    @Deactivate
    void stop() {
        registration.unregister();
    }
}
