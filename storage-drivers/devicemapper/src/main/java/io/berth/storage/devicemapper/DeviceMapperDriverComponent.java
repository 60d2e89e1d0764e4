package io.berth.storage.devicemapper;

import io.berth.spi.driver.Driver;
import io.berth.spi.driver.DriverStatus;
import io.berth.spi.kernel.KernelProperties;
import io.berth.spi.storage.StorageDriver;
import java.nio.file.Path;
import java.util.Hashtable;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Registers the devicemapper driver, rooted at {@code <data-root>/devicemapper/},
 * with the pool of configuration PID {@code io.berth.storage.devicemapper} (e.g. a
 * {@code deploy/io.berth.storage.devicemapper.cfg}). It always registers: without
 * configuration the driver is unconfigured, on a host without device-mapper
 * unsupported with the reason, and with options that contradict each other
 * failed with what is wrong. A configuration change makes a new driver instance,
 * which re-adopts the pool and its mounts.
 */
@Component(immediate = true, service = {}, configurationPid = DeviceMapperStorageDriver.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL,
        property = {Driver.TYPE + "=" + StorageDriver.TYPE_STORAGE, Driver.NAME + "=" + DeviceMapperStorageDriver.NAME})
@Designate(ocd = DeviceMapperDriverComponent.Config.class)
public class DeviceMapperDriverComponent {

    @ObjectClassDefinition(name = "berth devicemapper storage driver")
    public @interface Config {
        @AttributeDefinition(name = "dm.datadev", description = "the thin pool's data block device")
        String dm_datadev() default "";

        @AttributeDefinition(name = "dm.metadatadev", description = "the thin pool's metadata block device")
        String dm_metadatadev() default "";

        @AttributeDefinition(name = "dm.loopback",
                description = "no devices: sparse files under the driver's root on loop devices (trying it out only)")
        boolean dm_loopback() default false;

        @AttributeDefinition(name = "dm.loopdatasize", description = "size of the sparse data file")
        String dm_loopdatasize() default "100G";

        @AttributeDefinition(name = "dm.loopmetadatasize", description = "size of the sparse metadata file")
        String dm_loopmetadatasize() default "2G";

        @AttributeDefinition(name = "dm.basesize", description = "size of each base layer's thin device")
        String dm_basesize() default "10G";

        @AttributeDefinition(name = "dm.fs", description = "filesystem of the thin devices: ext4 or xfs")
        String dm_fs() default "ext4";
    }

    private final ServiceRegistration<?> registration;

    @Activate
    public DeviceMapperDriverComponent(BundleContext context, Config config) {
        String dataRoot = context.getProperty(KernelProperties.DATA_ROOT);
        if (dataRoot == null) {
            throw new IllegalStateException("framework property " + KernelProperties.DATA_ROOT + " is not set");
        }
        Path root = Path.of(dataRoot, DeviceMapperStorageDriver.NAME);
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(Driver.TYPE, StorageDriver.TYPE_STORAGE);
        properties.put(Driver.NAME, DeviceMapperStorageDriver.NAME);
        PoolOptions options;
        try {
            options = options(config);
        } catch (IllegalArgumentException e) {
            // a broken configuration is the driver failed, with what is wrong, not a component that is missing
            String reason = "configuration " + DeviceMapperStorageDriver.PID + ": " + e.getMessage();
            registration = context.registerService(Driver.class, () -> DriverStatus.failed(reason), properties);
            return;
        }
        registration = context.registerService(StorageDriver.class, new DeviceMapperStorageDriver(root, options),
                properties);
    }

    static PoolOptions options(Config config) {
        return new PoolOptions(path(config.dm_datadev()), path(config.dm_metadatadev()), config.dm_loopback(),
                PoolOptions.parseSize("dm.loopdatasize", config.dm_loopdatasize()),
                PoolOptions.parseSize("dm.loopmetadatasize", config.dm_loopmetadatasize()),
                PoolOptions.parseSize("dm.basesize", config.dm_basesize()), config.dm_fs().trim());
    }

    private static Path path(String value) {
        return value == null || value.isBlank() ? null : Path.of(value.trim());
    }

    @Deactivate
    void stop() {
        registration.unregister();
    }
}
