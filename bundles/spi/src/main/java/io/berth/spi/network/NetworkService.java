package io.berth.spi.network;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The engine's networks, as {@code docker network} shows them: named, with ids, over whichever driver holds each
 * ({@code bridge}, {@code host} and {@code none} are always there when their drivers run). Front doors and the
 * container service use it; drivers never see names.
 *
 * <p>Failures follow the engine's conventions: {@link java.util.NoSuchElementException} for an unknown network,
 * {@link IllegalStateException} for a conflict (a name in use, a network with endpoints),
 * {@link IllegalArgumentException} for bad input.
 */
@ProviderType
public interface NetworkService {

    /**
     * {@code docker network create}.
     *
     * @param name    the network's name, unique
     * @param driver  the driver ({@code bridge} if null or empty)
     * @param options driver options ({@link NetworkDriver#OPTION_SUBNET}, {@link NetworkDriver#OPTION_GATEWAY},
     *                {@link NetworkDriver#OPTION_INTERNAL}, ...)
     * @param labels  user labels
     */
    NetworkResource create(String name, String driver, Map<String, String> options, Map<String, String> labels)
            throws IOException;

    /** Every network, the predefined ones included. */
    List<NetworkResource> list() throws IOException;

    /** A network by name, id or unique id prefix. */
    NetworkResource inspect(String nameOrId) throws IOException;

    /** Removes a network; refused for the predefined ones and while containers are connected. */
    void remove(String nameOrId) throws IOException;

    /** Removes every user network without containers; returns their names. */
    List<String> prune() throws IOException;

    /**
     * Connects a container's network namespace.
     *
     * @param containerId   the container (its id is the endpoint's id)
     * @param containerName its name, shown in inspect and resolvable on user networks
     * @param netns         its network namespace ({@code /proc/PID/ns/net} or a bind-mounted file)
     * @param aliases       more names it answers to on this network ({@code --network-alias})
     * @param ports         ports to publish on the host ({@code -p}, {@code -P} resolved to numbers)
     * @return the endpoint, with its address and the host ports it got
     */
    Endpoint connect(String nameOrId, String containerId, String containerName, Path netns, List<String> aliases,
                     List<PortMapping> ports) throws IOException;

    /** Disconnects a container; nothing happens when it is not connected. */
    void disconnect(String nameOrId, String containerId) throws IOException;
}
