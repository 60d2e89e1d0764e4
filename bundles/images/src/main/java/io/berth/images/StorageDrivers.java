package io.berth.images;

import io.berth.spi.storage.StorageDriver;
import java.util.Set;

/** The storage drivers the layer store can use, by name. */
interface StorageDrivers {

    /** The driver with this name, or {@code null} if it is not registered. */
    StorageDriver byName(String name);

    /** Names of the registered drivers whose status is ACTIVE. */
    Set<String> activeNames();
}
