package io.berth.network.bridge;

import io.berth.network.support.DriverRegistration;
import io.berth.spi.kernel.KernelProperties;
import io.berth.spi.network.NetworkDriver;
import java.io.IOException;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;

/**
 * Registers the bridge driver, rooted at {@code <data-root>/network/bridge/}.
 * daemon.json's {@code bridge} names the default network's Linux bridge
 * (unless set: the framework property {@value #DEFAULT_BRIDGE_PROPERTY}, which
 * a distribution may set, else {@code berth0}); {@code "none"} leaves the driver
 * unconfigured and the host untouched. Stopping the component leaves bridges, veths and
 * rules in place: the next instance re-adopts them.
 */
@Component(configurationPid = KernelProperties.DAEMON_PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
public class BridgeDriverComponent {

    /** The part of daemon.json this component reads. */
    @interface DaemonSettings {
        String bridge() default "";
    }

    /** The framework property with the default bridge when daemon.json names none. */
    public static final String DEFAULT_BRIDGE_PROPERTY = "berth.network.default-bridge";

    private final ServiceRegistration<NetworkDriver> registration;

    @Activate
    public BridgeDriverComponent(BundleContext context, DaemonSettings settings) throws IOException {
        String fallback = context.getProperty(DEFAULT_BRIDGE_PROPERTY);
        String bridge = !settings.bridge().isBlank() ? settings.bridge()
                : fallback != null && !fallback.isBlank() ? fallback : "berth0";
        registration = DriverRegistration.register(context, BridgeNetworkDriver.NAME,
                root -> new BridgeNetworkDriver(BridgeSettings.defaults(root, bridge)));
    }

    @Deactivate
    void stop() {
        registration.unregister();
    }
}
