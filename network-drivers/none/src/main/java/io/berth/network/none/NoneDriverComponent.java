package io.berth.network.none;

import io.berth.network.support.DriverRegistration;
import io.berth.spi.network.NetworkDriver;
import java.io.IOException;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * Registers the none driver, rooted at {@code <data-root>/network/none/}.
 */
@Component
public class NoneDriverComponent {

    private final ServiceRegistration<NetworkDriver> registration;

    @Activate
    public NoneDriverComponent(BundleContext context) throws IOException {
        registration = DriverRegistration.register(context, NoneNetworkDriver.NAME, NoneNetworkDriver::new);
    }

    @Deactivate
    void stop() {
        registration.unregister();
    }
}
