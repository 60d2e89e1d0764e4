package io.berth.spi.runtime;

import io.berth.spi.driver.Driver;
import java.io.IOException;
import java.nio.file.Path;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Runs one OCI bundle (a directory with {@code config.json} and a root
 * filesystem). Containers are supervised outside the JVM (conmon), so a
 * runtime driver can be stopped or replaced while they keep running; a new
 * instance answers {@link #state} for containers an earlier one created.
 */
@ConsumerType
public interface ContainerRuntime extends Driver {

    /** {@link Driver#TYPE} value for container runtimes. */
    String TYPE_RUNTIME = "runtime";

    /** Creates the container from an OCI bundle without starting its process. */
    void create(String id, Path bundle) throws IOException;

    /** Starts the process of a created container. */
    void start(String id) throws IOException;

    /** Sends a signal (by number) to the container's init process. */
    void kill(String id, int signal) throws IOException;

    /** Deletes a stopped container from the runtime; {@code force} kills it first. */
    void delete(String id, boolean force) throws IOException;

    /** The container's state as the runtime sees it. */
    ContainerState state(String id) throws IOException;
}
