package io.berth.spi.driver;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A pluggable subsystem implementation (storage, network, OCI runtime).
 *
 * <p>A driver is registered as an OSGi service under its own interface with
 * the service properties {@link #TYPE} and {@link #NAME}. It is registered
 * whether or not it can work on this host: {@link #status()} says which, so
 * that "not on this host" is visible to operators instead of silently absent.
 */
@ConsumerType
public interface Driver {

    /** Service property: the kind of driver, e.g. {@code storage}, {@code network}, {@code runtime}. */
    String TYPE = "berth.driver.type";

    /** Service property: the driver's short name, unique within its type, e.g. {@code overlay2}. */
    String NAME = "berth.driver.name";

    /** The driver's current status; cheap to call, never throws. */
    DriverStatus status();
}
