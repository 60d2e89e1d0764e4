package io.berth.spi.network;

import io.berth.spi.driver.Driver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Networks and the endpoints that join containers to them (bridge, host,
 * none, ...). A driver keeps what it needs to re-adopt its networks and
 * endpoints on disk under {@code <data-root>/network/<name>/}, so a new version
 * of the driver picks up where the old one stopped.
 */
@ConsumerType
public interface NetworkDriver extends Driver {

    /** {@link Driver#TYPE} value for network drivers. */
    String TYPE_NETWORK = "network";

    /**
     * Creates a network.
     *
     * @param networkId the network's id
     * @param options   driver options ({@code docker network create -o}), e.g. subnet, gateway
     */
    void createNetwork(String networkId, Map<String, String> options) throws IOException;

    /** Deletes a network that has no endpoints left, with everything it created on the host. */
    void deleteNetwork(String networkId) throws IOException;

    /**
     * Joins the network namespace at {@code netns} to a network.
     *
     * @return the interface the container got
     */
    Endpoint join(String networkId, String endpointId, Path netns, Map<String, String> options) throws IOException;

    /** Removes an endpoint from its network. */
    void leave(String networkId, String endpointId) throws IOException;
}
