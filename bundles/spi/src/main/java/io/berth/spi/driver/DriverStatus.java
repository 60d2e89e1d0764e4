package io.berth.spi.driver;

import java.util.Map;
import java.util.Objects;

/**
 * What a driver can do right now. The four states are never confused:
 * <ul>
 * <li>{@link State#UNCONFIGURED} - it needs configuration nobody gave it (e.g. a device-mapper pool);</li>
 * <li>{@link State#UNSUPPORTED} - it cannot work on this host, and {@link #reason()} says why
 *     (e.g. "data-root is not on btrfs");</li>
 * <li>{@link State#FAILED} - it should work here but broke; {@link #reason()} says how;</li>
 * <li>{@link State#ACTIVE} - ready for use.</li>
 * </ul>
 *
 * @param state   the state
 * @param reason  why the driver is not active; empty when active
 * @param details driver-specific facts for operators (e.g. "Backing Filesystem")
 */
public record DriverStatus(State state, String reason, Map<String, String> details) {

    /** The four outcomes of a driver. */
    public enum State { UNCONFIGURED, UNSUPPORTED, FAILED, ACTIVE }

    public DriverStatus {
        Objects.requireNonNull(state, "state");
        reason = reason == null ? "" : reason;
        details = details == null ? Map.of() : Map.copyOf(details);
        if (state != State.ACTIVE && reason.isBlank()) {
            throw new IllegalArgumentException("a " + state + " driver status needs a reason");
        }
    }

    public static DriverStatus active(Map<String, String> details) {
        return new DriverStatus(State.ACTIVE, "", details);
    }

    public static DriverStatus unconfigured(String reason) {
        return new DriverStatus(State.UNCONFIGURED, reason, Map.of());
    }

    public static DriverStatus unsupported(String reason) {
        return new DriverStatus(State.UNSUPPORTED, reason, Map.of());
    }

    public static DriverStatus failed(String reason) {
        return new DriverStatus(State.FAILED, reason, Map.of());
    }

    public boolean isActive() {
        return state == State.ACTIVE;
    }
}
