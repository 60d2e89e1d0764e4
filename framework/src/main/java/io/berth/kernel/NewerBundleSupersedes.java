package io.berth.kernel;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.BundleException;
import org.osgi.framework.SynchronousBundleListener;

/**
 * Upgrading a subsystem by dropping its newer jar into {@code deploy/}: FileInstall
 * installs it beside the version from {@code system/}, and without this rule
 * both would run. When a bundle starts, every older version of the same
 * bundle is stopped first (before the new one's components activate); when
 * the newer one stops or is removed again, the newest older version this rule
 * stopped is started again. Only start states change: nothing is uninstalled.
 */
final class NewerBundleSupersedes implements SynchronousBundleListener {

    private static final Logger LOG = Logger.getLogger("berth.kernel");

    private final BundleContext context;
    private final Set<Long> superseded = ConcurrentHashMap.newKeySet();

    NewerBundleSupersedes(BundleContext context) {
        this.context = context;
    }

    @Override
    public void bundleChanged(BundleEvent event) {
        Bundle bundle = event.getBundle();
        if (bundle.getSymbolicName() == null || bundle.getBundleId() == 0) {
            return;
        }
        switch (event.getType()) {
            case BundleEvent.STARTING -> stopOlderVersionsOf(bundle);
            case BundleEvent.STOPPED, BundleEvent.UNINSTALLED -> restartSupersededBy(bundle);
            default -> {
            }
        }
    }

    private void stopOlderVersionsOf(Bundle started) {
        for (Bundle other : sameName(started)) {
            boolean running = other.getState() == Bundle.ACTIVE || other.getState() == Bundle.STARTING;
            if (running && other.getVersion().compareTo(started.getVersion()) < 0) {
                try {
                    superseded.add(other.getBundleId());
                    other.stop(Bundle.STOP_TRANSIENT);
                    LOG.info(() -> started.getSymbolicName() + " " + started.getVersion() + " supersedes "
                            + other.getVersion() + " (bundle " + other.getBundleId() + "), which is stopped");
                } catch (BundleException | IllegalStateException e) {
                    LOG.log(Level.WARNING, "cannot stop " + other.getSymbolicName() + " " + other.getVersion(), e);
                }
            }
        }
    }

    private void restartSupersededBy(Bundle gone) {
        if (superseded.contains(gone.getBundleId()) || isShuttingDown()) {
            return; // stopped by this rule, or the daemon is going down
        }
        boolean newerStillRunning = sameName(gone).stream()
                .anyMatch(other -> other.getState() == Bundle.ACTIVE && !superseded.contains(other.getBundleId()));
        if (newerStillRunning) {
            return;
        }
        Optional<Bundle> previous = sameName(gone).stream()
                .filter(other -> superseded.contains(other.getBundleId()))
                .max(Comparator.comparing(Bundle::getVersion));
        previous.ifPresent(bundle -> {
            try {
                superseded.remove(bundle.getBundleId());
                bundle.start(Bundle.START_TRANSIENT);
                LOG.info(() -> gone.getSymbolicName() + " " + gone.getVersion() + " is gone; "
                        + bundle.getVersion() + " (bundle " + bundle.getBundleId() + ") runs again");
            } catch (BundleException | IllegalStateException e) {
                LOG.log(Level.WARNING, "cannot restart " + bundle.getSymbolicName() + " " + bundle.getVersion(), e);
            }
        });
    }

    private java.util.List<Bundle> sameName(Bundle bundle) {
        return Arrays.stream(context.getBundles())
                .filter(other -> other.getBundleId() != bundle.getBundleId())
                .filter(other -> bundle.getSymbolicName().equals(other.getSymbolicName()))
                .toList();
    }

    private boolean isShuttingDown() {
        int state = context.getBundle(0).getState();
        return state == Bundle.STOPPING;
    }
}
