package io.berth.images;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which storage driver new layers go to, decided as dockerd decides it: the
 * configured {@code storage-driver} wins; otherwise the one driver that
 * already holds layers; otherwise the first active driver of
 * {@link #PRIORITY}. With layers in several drivers and nothing configured,
 * it refuses to guess.
 */
final class DriverChoice {

    static final List<String> PRIORITY = List.of("overlay2", "btrfs", "vfs");

    private DriverChoice() {
    }

    /**
     * @param configured   {@code storage-driver} from daemon.json or a runtime switch; empty if none
     * @param active       names of the drivers that report ACTIVE
     * @param withLayers   names of the drivers that hold layers already
     * @return the driver's name
     * @throws IllegalStateException with the reason when no driver can be chosen
     */
    static String choose(Optional<String> configured, Set<String> active, Set<String> withLayers) {
        if (configured.isPresent()) {
            String name = configured.get();
            if (!active.contains(name)) {
                throw new IllegalStateException("storage driver " + name + " is configured but not active"
                        + " (active: " + sorted(active) + "); see berth:drivers");
            }
            return name;
        }
        if (withLayers.size() > 1) {
            throw new IllegalStateException("layers exist in several storage drivers " + sorted(withLayers)
                    + "; set \"storage-driver\" in daemon.json or use berth:storage-use to pick one");
        }
        if (withLayers.size() == 1) {
            String name = withLayers.iterator().next();
            if (!active.contains(name)) {
                throw new IllegalStateException("the layers are in storage driver " + name
                        + ", which is not active; see berth:drivers");
            }
            return name;
        }
        for (String name : PRIORITY) {
            if (active.contains(name)) {
                return name;
            }
        }
        if (!active.isEmpty()) {
            return sorted(active).iterator().next();
        }
        throw new IllegalStateException("no storage driver is active; see berth:drivers");
    }

    private static Set<String> sorted(Set<String> names) {
        return new TreeSet<>(names);
    }
}
