package io.berth.kernel;

import java.io.IOException;
import java.util.Hashtable;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.util.tracker.ServiceTracker;

/**
 * Puts daemon.json into ConfigAdmin as soon as ConfigAdmin registers (and
 * again if it is replaced), so components see it before they activate.
 */
final class ConfigFeeder extends ServiceTracker<ConfigurationAdmin, ConfigurationAdmin> implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger("berth.kernel");

    private final String pid;
    private final Hashtable<String, Object> properties;

    private ConfigFeeder(BundleContext context, String pid, Hashtable<String, Object> properties) {
        super(context, ConfigurationAdmin.class, null);
        this.pid = pid;
        this.properties = properties;
    }

    static ConfigFeeder open(BundleContext context, String pid, Hashtable<String, Object> properties) {
        ConfigFeeder feeder = new ConfigFeeder(context, pid, properties);
        feeder.open();
        return feeder;
    }

    @Override
    public ConfigurationAdmin addingService(ServiceReference<ConfigurationAdmin> reference) {
        ConfigurationAdmin admin = super.addingService(reference);
        try {
            Configuration configuration = admin.getConfiguration(pid, "?");
            configuration.updateIfDifferent(properties);
            LOG.fine(() -> "configuration " + pid + " set from daemon.json");
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.SEVERE, "cannot hand daemon.json to ConfigAdmin", e);
        }
        return admin;
    }

    @Override
    public void close() {
        super.close();
    }
}
