package io.berth.containers.volumes;

import java.util.List;

/**
 * Which containers use a volume: the container lifecycle knows, the volume store asks. A volume is in use while a
 * container (running or not) mounts it, as in Docker, so it is neither removed nor pruned.
 */
@FunctionalInterface
public interface VolumeUsers {

    /** The ids of the containers that use the volume {@code name}; empty when none does. */
    List<String> containersUsing(String name);
}
