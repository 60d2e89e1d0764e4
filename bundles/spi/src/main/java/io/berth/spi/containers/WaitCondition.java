package io.berth.spi.containers;

/** {@code docker wait --condition}: what the wait waits for. */
public enum WaitCondition {
    /** The container is not running (returns at once if it is not). */
    NOT_RUNNING,
    /** The container's next exit. */
    NEXT_EXIT,
    /** The container is removed. */
    REMOVED
}
