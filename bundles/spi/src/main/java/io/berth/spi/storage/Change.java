package io.berth.spi.storage;

/**
 * One changed path of a layer relative to its parent, as {@code docker diff}
 * shows it.
 *
 * @param path the absolute path inside the container, e.g. {@code /etc/hosts}
 * @param kind what happened to it
 */
public record Change(String path, Kind kind) {

    /** Docker's change kinds (0 modified, 1 added, 2 deleted in the Engine API). */
    public enum Kind { MODIFIED, ADDED, DELETED }
}
