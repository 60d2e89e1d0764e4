package io.berth.spi.network;

import io.berth.spi.driver.Driver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Networks and the endpoints that join containers to them (bridge, host,
 * none). A driver keeps what it needs to re-adopt its networks and
 * endpoints on disk under {@code <data-root>/network/<name>/}, so a new
 * instance of the driver (a bundle update, a daemon restart) picks up where
 * the old one stopped, without disturbing running containers.
 *
 * <p>Bad input (an unknown network, a bad subnet, a port in use) is an
 * {@link IllegalArgumentException} whose message says what is wrong; a
 * failure of the host (a command that fails) is an {@link IOException}.
 * Either way nothing is left half-created.
 */
@ConsumerType
public interface NetworkDriver extends Driver {

    /** {@link Driver#TYPE} value for network drivers. */
    String TYPE_NETWORK = "network";

    /** {@link #createNetwork} option: the subnet in CIDR form ({@code --subnet}). */
    String OPTION_SUBNET = "subnet";
    /** {@link #createNetwork} option: the gateway address ({@code --gateway}). */
    String OPTION_GATEWAY = "gateway";
    /** {@link #createNetwork} option: {@code true} for a network without outside access ({@code --internal}). */
    String OPTION_INTERNAL = "internal";
    /** {@link #join} option: the interface name inside the namespace (default {@code eth0}, or the next free one). */
    String OPTION_INTERFACE = "interface";

    /** The networks this driver holds, including those it predefines (e.g. {@code bridge}, {@code host}). */
    List<Network> networks();

    /**
     * Creates a network.
     *
     * @param networkId the network's id
     * @param options   driver options ({@code docker network create}), e.g. {@link #OPTION_SUBNET}
     * @return the network as created, with the subnet and gateway it got
     * @throws IllegalArgumentException for an existing id, bad options or a subnet that overlaps another
     */
    Network createNetwork(String networkId, Map<String, String> options) throws IOException;

    /**
     * Deletes a network that has no endpoints left, with everything it
     * created on the host.
     *
     * @throws IllegalArgumentException for an unknown network, one that still has endpoints, or a predefined one
     */
    void deleteNetwork(String networkId) throws IOException;

    /**
     * Joins the network namespace at {@code netns} (e.g. {@code /proc/PID/ns/net}
     * or {@code /run/netns/NAME}) to a network.
     *
     * @param netns the namespace; ignored by drivers that use the host's namespace
     * @return the endpoint the container got
     */
    Endpoint join(String networkId, String endpointId, Path netns, Map<String, String> options) throws IOException;

    /**
     * Publishes a port of an endpoint on the host.
     *
     * @param mapping what to publish; a host port of 0 lets the driver choose a free one
     * @return the endpoint with its published ports, the new one included
     * @throws IllegalArgumentException for an unknown endpoint or a host port already in use;
     *         {@link UnsupportedOperationException} when the driver cannot publish ports
     */
    Endpoint publish(String networkId, String endpointId, PortMapping mapping) throws IOException;

    /** The endpoints of a network. */
    List<Endpoint> endpoints(String networkId);

    /** Removes an endpoint from its network, with its published ports; an unknown endpoint is not an error. */
    void leave(String networkId, String endpointId) throws IOException;
}
