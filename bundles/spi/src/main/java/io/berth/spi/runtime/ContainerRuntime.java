package io.berth.spi.runtime;

import io.berth.spi.driver.Driver;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Runs containers from a {@link RuntimeSpec}: writes the OCI bundle ({@code config.json}) and has an OCI runtime
 * (runc, crun) create it under a supervisor outside the JVM (conmon). Containers therefore keep running while a
 * runtime driver is stopped, replaced or updated, and a new instance answers for every container an earlier one
 * created: everything it needs is kept on disk under the driver's state directory, keyed by container id.
 *
 * <p>Two stories: running a container ({@link #create}, {@link #start}, {@link #kill}, {@link #state},
 * {@link #delete}) and working inside a running one ({@link #attach}, {@link #exec}, {@link #processes},
 * {@link #usage}). Unknown ids are {@link java.util.NoSuchElementException}s; a runtime's refusal is an
 * {@link IOException} whose message carries the runtime's own words.
 */
@ConsumerType
public interface ContainerRuntime extends Driver {

    /** {@link Driver#TYPE} value for container runtimes. */
    String TYPE_RUNTIME = "runtime";

    /**
     * Service property: {@code true} on the runtime that new containers get when they ask for none (daemon.json's
     * {@code default-runtime}, else the one that fits the host's cgroup layout); absent or {@code false} on the
     * others.
     */
    String DEFAULT_RUNTIME = "berth.runtime.default";

    /**
     * Creates the container (its supervisor running, its process not yet started). Output goes to
     * {@code io.logFile()} as one record per line with its stream and timestamp (conmon's k8s-file format).
     * A refusal leaves nothing behind.
     */
    void create(String id, RuntimeSpec spec, ContainerIo io) throws IOException;

    /** Starts the process of a created container. */
    void start(String id) throws IOException;

    /** Sends a signal (by number) to the container's init process. */
    void kill(String id, int signal) throws IOException;

    /** Freezes every process of the container (cgroup freezer). */
    void pause(String id) throws IOException;

    /** Thaws a paused container. */
    void resume(String id) throws IOException;

    /**
     * Deletes a stopped container and everything the runtime kept for it; {@code force} kills a running one
     * first. Deleting an unknown id does nothing.
     */
    void delete(String id, boolean force) throws IOException;

    /** The container's state as the runtime sees it (also for containers created by an earlier instance). */
    ContainerState state(String id) throws IOException;

    /**
     * Completes with the container's final state once its init process has exited (at once if it has), also for
     * a container an earlier instance created; the engine's restart policies, {@code --rm} and {@code wait} hang on
     * it. Never completes for a container that is deleted while running; fails for an unknown id.
     */
    CompletableFuture<ContainerState> exit(String id) throws IOException;

    /**
     * Connects to the running container's stdio through its supervisor: the output from now on (no replay) and,
     * if it was created with {@link ContainerIo#openStdin()}, its stdin.
     */
    Attachment attach(String id) throws IOException;

    /** Runs another process in the running container; its stdio is the returned process's attachment. */
    ExecProcess exec(String id, ExecSpec spec) throws IOException;

    /** Host pids of every process in the container, init first. */
    List<Long> processes(String id) throws IOException;

    /** What the container uses now, read from its cgroups. */
    ResourceUsage usage(String id) throws IOException;

    /**
     * Changes a running container's resource limits at once (the OCI runtime's {@code update}): {@code resources}
     * are all its limits from now on; a pids limit of 0 removes that limit.
     */
    default void update(String id, RuntimeSpec.Resources resources) throws IOException {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot update resource limits");
    }

    /**
     * Rewrites a container's {@code /etc/hosts} in place (the running container sees it at once) with the localhost
     * lines and then {@code hosts}, as {@link RuntimeSpec#hosts()} gives them at create: peers on a user network
     * come and go.
     *
     * @since 2.1
     */
    default void updateHosts(String id, List<String> hosts) throws IOException {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot rewrite /etc/hosts");
    }
}
