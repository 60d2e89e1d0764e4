package io.berth.storage.overlay;

import io.berth.spi.driver.Driver;
import io.berth.spi.kernel.KernelProperties;
import io.berth.spi.storage.DiffDriver;
import io.berth.spi.storage.StorageDriver;
import java.nio.file.Path;
import java.util.Hashtable;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * Registers the overlay2 driver, rooted at {@code <data-root>/overlay2/}. The
 * driver is registered even where overlay cannot work, reporting
 * {@code UNSUPPORTED} with the reason. Deactivation only unregisters it: its
 * mounts stay (containers run on them) and the next instance re-adopts them.
 */
@Component(property = {Driver.TYPE + "=" + StorageDriver.TYPE_STORAGE, Driver.NAME + "=" + OverlayStorageDriver.NAME})
public class OverlayDriverComponent {

    private final ServiceRegistration<?> registration;

    @Activate
    public OverlayDriverComponent(BundleContext context) {
        String dataRoot = context.getProperty(KernelProperties.DATA_ROOT);
        if (dataRoot == null) {
            throw new IllegalStateException("framework property " + KernelProperties.DATA_ROOT + " is not set");
        }
        OverlayStorageDriver driver = new OverlayStorageDriver(Path.of(dataRoot, OverlayStorageDriver.NAME));
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(Driver.TYPE, StorageDriver.TYPE_STORAGE);
        properties.put(Driver.NAME, OverlayStorageDriver.NAME);
        registration = context.registerService(
                new String[] {StorageDriver.class.getName(), DiffDriver.class.getName()}, driver, properties);
    }

    @Deactivate
    void stop() {
        registration.unregister();
    }
}
