package io.berth.network.none;

import io.berth.spi.driver.Driver;
import io.berth.spi.kernel.KernelProperties;
import io.berth.spi.network.NetworkDriver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Hashtable;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/** Registers the none driver, rooted at {@code <data-root>/network/none/}. */
@Component
public class NoneDriverComponent {

    private final ServiceRegistration<NetworkDriver> registration;

    @Activate
    public NoneDriverComponent(BundleContext context) throws IOException {
        String dataRoot = context.getProperty(KernelProperties.DATA_ROOT);
        if (dataRoot == null) {
            throw new IllegalStateException("framework property " + KernelProperties.DATA_ROOT + " is not set");
        }
        NoneNetworkDriver driver = new NoneNetworkDriver(Path.of(dataRoot, "network", NoneNetworkDriver.NAME));
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(Driver.TYPE, NetworkDriver.TYPE_NETWORK);
        properties.put(Driver.NAME, NoneNetworkDriver.NAME);
        registration = context.registerService(NetworkDriver.class, driver, properties);
    }

    @Deactivate
    void stop() {
        registration.unregister();
    }
}
