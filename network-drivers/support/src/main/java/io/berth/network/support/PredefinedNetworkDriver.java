package io.berth.network.support;

import io.berth.spi.driver.DriverStatus;
import io.berth.spi.network.Endpoint;
import io.berth.spi.network.Network;
import io.berth.spi.network.NetworkDriver;
import io.berth.spi.network.PortMapping;
import io.berth.storage.support.DiskFiles;
import io.berth.storage.support.Host;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A driver with exactly one network, named as the driver, that nobody can
 * create or remove (Docker's {@code host} and {@code none}). Its endpoints
 * are recorded as one file each under {@code <root>/endpoints/}, so a new
 * instance lists the same endpoints; it creates nothing else on the host.
 * Subclasses say what joining does.
 */
public abstract class PredefinedNetworkDriver implements NetworkDriver {

    private final String name;
    private final Path endpointsDir;

    protected PredefinedNetworkDriver(String name, Path root) throws IOException {
        this.name = name;
        this.endpointsDir = Files.createDirectories(root.resolve("endpoints"));
    }

    /** Sets up the namespace at {@code netns} for a new endpoint. */
    protected abstract void prepare(Path netns) throws IOException;

    /** Whether the endpoints use the host's own network namespace. */
    protected abstract boolean usesHostNamespace();

    @Override
    public DriverStatus status() {
        return Host.isRoot() ? DriverStatus.active(Map.of()) : DriverStatus.unsupported("network drivers need root");
    }

    @Override
    public List<Network> networks() {
        return List.of(new Network(name, name, "", "", false, "", Map.of()));
    }

    @Override
    public Network createNetwork(String networkId, Map<String, String> options) {
        throw new IllegalArgumentException("only one instance of the " + name + " network is allowed: '" + name
                + "' is predefined");
    }

    @Override
    public void deleteNetwork(String networkId) {
        checkNetwork(networkId);
        throw new IllegalArgumentException(name + " is a pre-defined network and cannot be removed");
    }

    @Override
    public synchronized Endpoint join(String networkId, String endpointId, Path netns, Map<String, String> options)
            throws IOException {
        checkNetwork(networkId);
        Path record = endpointsDir.resolve(EndpointIds.check("endpoint", endpointId));
        if (Files.exists(record)) {
            throw new IllegalArgumentException("endpoint " + endpointId + " already exists on network " + name);
        }
        prepare(netns);
        DiskFiles.writeAtomically(record, netns == null ? "" : netns.toString());
        return endpoint(endpointId);
    }

    @Override
    public Endpoint publish(String networkId, String endpointId, PortMapping mapping) {
        throw new UnsupportedOperationException("the " + name + " network does not publish ports");
    }

    @Override
    public synchronized List<Endpoint> endpoints(String networkId) {
        checkNetwork(networkId);
        try (Stream<Path> files = Files.list(endpointsDir)) {
            return files.map(file -> file.getFileName().toString())
                    .filter(id -> !id.startsWith(DiskFiles.TEMP_PREFIX))
                    .sorted()
                    .map(this::endpoint)
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public synchronized void leave(String networkId, String endpointId) throws IOException {
        checkNetwork(networkId);
        Files.deleteIfExists(endpointsDir.resolve(EndpointIds.check("endpoint", endpointId)));
    }

    private Endpoint endpoint(String endpointId) {
        return new Endpoint(name, endpointId, usesHostNamespace(), "", "", "", "", List.of());
    }

    private void checkNetwork(String networkId) {
        if (!name.equals(networkId)) {
            throw new IllegalArgumentException("network " + networkId + " not found: the " + name
                    + " driver has only the network '" + name + "'");
        }
    }
}
