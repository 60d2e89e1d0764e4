package io.berth.spi.containers;

import io.berth.spi.images.Image;
import io.berth.spi.runtime.Attachment;
import io.berth.spi.runtime.ExecProcess;
import io.berth.spi.runtime.ResourceUsage;
import io.berth.spi.storage.Change;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Containers: what {@code docker create/start/stop/rm/...} work on. Containers are named by their name (with or
 * without the leading slash), full id or unambiguous id prefix.
 *
 * <p>Errors, as the Engine API maps them: an unknown container or image is a
 * {@link java.util.NoSuchElementException} ("No such container: X"), a request that cannot be carried out in the
 * container's state an {@link IllegalStateException} starting with "conflict:" or saying why (409), bad input an
 * {@link IllegalArgumentException} saying what is wrong (400), and a failure of the host an {@link IOException}.
 * A refused request changes nothing.
 */
@ProviderType
public interface ContainerService {

    /**
     * Creates a container from an image: its read-write layer, its volumes, its state on disk.
     *
     * @param name   its name, or null for a generated one ({@code adjective_name} as Docker makes them)
     * @param config the configuration; null fields take the image's values
     * @param host   the host configuration, or null for the defaults
     */
    default Container create(String name, ContainerConfig config, HostConfig host) throws IOException {
        return create(name, config, host, java.util.Map.of());
    }

    /**
     * {@link #create(String, ContainerConfig, HostConfig)} with more names on its network
     * ({@code --network-alias}, the API's {@code NetworkingConfig.EndpointsConfig.NET.Aliases}); only a user
     * network has them, as in Docker.
     *
     * @param aliases aliases by network name
     * @since 1.1
     */
    Container create(String name, ContainerConfig config, HostConfig host, java.util.Map<String, List<String>> aliases)
            throws IOException;

    /** Every container ({@code all}) or the running ones, newest first. */
    List<Container> list(boolean all) throws IOException;

    /** The container. */
    Container inspect(String nameOrId) throws IOException;

    /** Starts it; {@code false} if it was running already (the API's 304). */
    boolean start(String nameOrId) throws IOException;

    /**
     * Sends its stop signal and, after {@code timeoutSeconds} (null: its own or 10, -1: wait forever), SIGKILL;
     * returns once it has stopped. {@code false} if it was not running (304).
     */
    boolean stop(String nameOrId, Integer timeoutSeconds) throws IOException;

    /** Sends a signal by name ({@code KILL}, {@code SIGHUP}) or number; null for SIGKILL. */
    void kill(String nameOrId, String signal) throws IOException;

    /**
     * Starts it with an attachment to its stdio made before its process runs, so nothing it prints or reads is
     * missed ({@code docker run -i/-t}: attach, then start). The attachment watches for {@code detachKeys} as
     * {@link #attach} does. Refused for a running container.
     */
    Attachment startAttached(String nameOrId, String detachKeys) throws IOException;

    /** Stops (as {@link #stop}) and starts it. */
    void restart(String nameOrId, Integer timeoutSeconds) throws IOException;

    /**
     * Removes it with its read-write layer; a running one only with {@code force} (killed first);
     * {@code volumes} also removes its anonymous volumes.
     */
    void remove(String nameOrId, boolean force, boolean volumes) throws IOException;

    /** Freezes its processes. */
    void pause(String nameOrId) throws IOException;

    /** Thaws them. */
    void unpause(String nameOrId) throws IOException;

    /** Completes with the exit code once the condition holds. */
    CompletableFuture<Integer> wait(String nameOrId, WaitCondition condition) throws IOException;

    /** Gives it another name. */
    void rename(String nameOrId, String newName) throws IOException;

    /** Its log. */
    LogReader logs(String nameOrId, LogOptions options) throws IOException;

    /**
     * Attaches to its stdio. Reading {@code detachKeys} (Docker's syntax, {@code ctrl-p,ctrl-q} when null) on the
     * returned stdin detaches: the attachment closes and the container keeps running.
     */
    Attachment attach(String nameOrId, String detachKeys) throws IOException;

    /** Runs another process in it (it must be running). */
    ExecProcess exec(String nameOrId, ExecConfig exec) throws IOException;

    /** {@code docker top} with {@code ps} options (null for {@code -ef}). */
    Top top(String nameOrId, String psArgs) throws IOException;

    /** What it uses now. */
    ResourceUsage stats(String nameOrId) throws IOException;

    /** Files added, changed and deleted in its read-write layer. */
    List<Change> changes(String nameOrId) throws IOException;

    /** Writes its whole filesystem as a tar ({@code docker export}). */
    void export(String nameOrId, OutputStream out) throws IOException;

    /** Describes a path in it, following Docker's {@code cp} rules. */
    PathStat stat(String nameOrId, String path) throws IOException;

    /** Writes a path in it (a file or a directory tree) as a tar ({@code docker cp CONTAINER:PATH -}). */
    PathStat copyFrom(String nameOrId, String path, OutputStream tar) throws IOException;

    /** Extracts a tar into a directory in it ({@code docker cp - CONTAINER:PATH}). */
    void copyTo(String nameOrId, String path, InputStream tar, boolean noOverwriteDirNonDir) throws IOException;

    /** Makes an image of it: its read-write layer on top of its image's layers. */
    Image commit(String nameOrId, CommitRequest request) throws IOException;

    /**
     * {@code docker network connect}: joins a running container to one more network (its next interface, e.g.
     * {@code eth1}); for a stopped one, records the network, which its next start joins (as dockerd does).
     *
     * @since 1.1
     */
    void connect(String nameOrId, String network, List<String> aliases) throws IOException;

    /**
     * {@code docker network disconnect}: takes a running container off a network it was connected to; a stopped
     * one does not join it at its next start. @since 1.1
     */
    void disconnect(String nameOrId, String network) throws IOException;

    /**
     * {@code docker update}: stores the changed limits and restart policy, so inspect shows them and every later
     * start uses them, and applies the limits at once to a running container (through its runtime). Values Docker
     * refuses are refused before anything changes.
     *
     * @return the container as it is now
     */
    Container update(String nameOrId, ContainerUpdate update) throws IOException;

    /** Removes every stopped container; returns their ids. */
    List<String> prune() throws IOException;
}
