package io.berth.storage.vfs;

import io.berth.spi.driver.Driver;
import io.berth.spi.kernel.KernelProperties;
import io.berth.spi.storage.StorageDriver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Hashtable;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * Registers the vfs driver, rooted at {@code <data-root>/vfs/}. The driver
 * itself is a plain class; this is only its wiring.
 */
@Component(property = {Driver.TYPE + "=" + StorageDriver.TYPE_STORAGE, Driver.NAME + "=" + VfsStorageDriver.NAME})
public class VfsDriverComponent {

    private final ServiceRegistration<StorageDriver> registration;

    @Activate
    public VfsDriverComponent(BundleContext context) throws IOException {
        String dataRoot = context.getProperty(KernelProperties.DATA_ROOT);
        if (dataRoot == null) {
            throw new IllegalStateException("framework property " + KernelProperties.DATA_ROOT + " is not set");
        }
        VfsStorageDriver driver = new VfsStorageDriver(Path.of(dataRoot, VfsStorageDriver.NAME));
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(Driver.TYPE, StorageDriver.TYPE_STORAGE);
        properties.put(Driver.NAME, VfsStorageDriver.NAME);
        registration = context.registerService(StorageDriver.class, driver, properties);
    }

    @Deactivate
    void stop() {
        registration.unregister();
    }
}
