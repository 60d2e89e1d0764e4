package io.berth.storage.btrfs;

import io.berth.spi.driver.Driver;
import io.berth.spi.kernel.KernelProperties;
import io.berth.spi.storage.StorageDriver;
import java.nio.file.Path;
import java.util.Hashtable;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * Registers the btrfs driver, rooted at {@code <data-root>/btrfs/}. The driver
 * itself is a plain class; this is only its wiring. It registers the driver
 * even where btrfs cannot work (data-root not on btrfs, no btrfs-progs): the
 * driver then reports itself unsupported with the reason, and writes nothing.
 */
@Component(property = {Driver.TYPE + "=" + StorageDriver.TYPE_STORAGE, Driver.NAME + "=" + BtrfsStorageDriver.NAME})
public class BtrfsDriverComponent {

    private final ServiceRegistration<StorageDriver> registration;

    @Activate
    public BtrfsDriverComponent(BundleContext context) {
        String dataRoot = context.getProperty(KernelProperties.DATA_ROOT);
        if (dataRoot == null) {
            throw new IllegalStateException("framework property " + KernelProperties.DATA_ROOT + " is not set");
        }
        BtrfsStorageDriver driver = new BtrfsStorageDriver(Path.of(dataRoot, BtrfsStorageDriver.NAME));
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(Driver.TYPE, StorageDriver.TYPE_STORAGE);
        properties.put(Driver.NAME, BtrfsStorageDriver.NAME);
        registration = context.registerService(StorageDriver.class, driver, properties);
    }

    @Deactivate
    void stop() {
        registration.unregister();
    }
}
