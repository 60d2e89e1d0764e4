package io.berth.network.support;

import io.berth.spi.driver.Driver;
import io.berth.spi.kernel.KernelProperties;
import io.berth.spi.network.NetworkDriver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Hashtable;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

/**
 * What every network driver's DS component does: root the driver at
 * {@code <data-root>/network/<name>/} and register it with the service
 * properties {@link Driver#TYPE} = {@code network} and {@link Driver#NAME}.
 */
public final class DriverRegistration {

    /** Makes a driver rooted at a directory. */
    public interface Factory {
        NetworkDriver open(Path root) throws IOException;
    }

    private DriverRegistration() {
    }

    public static ServiceRegistration<NetworkDriver> register(BundleContext context, String name, Factory factory)
            throws IOException {
        String dataRoot = context.getProperty(KernelProperties.DATA_ROOT);
        if (dataRoot == null) {
            throw new IllegalStateException("framework property " + KernelProperties.DATA_ROOT + " is not set");
        }
        NetworkDriver driver = factory.open(Path.of(dataRoot, "network", name));
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(Driver.TYPE, NetworkDriver.TYPE_NETWORK);
        properties.put(Driver.NAME, name);
        return context.registerService(NetworkDriver.class, driver, properties);
    }
}
