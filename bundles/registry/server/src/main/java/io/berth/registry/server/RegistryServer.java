package io.berth.registry.server;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * An OCI distribution registry on its own Jetty server and TCP address,
 * storing under {@code root}. Plain HTTP, no authentication (yet).
 */
public final class RegistryServer {

    private final RegistryStorage storage;
    private final Server server;
    private final ServerConnector connector;

    public RegistryServer(Path root, String address, int port) throws IOException {
        storage = new RegistryStorage(root);
        QueuedThreadPool threads = new QueuedThreadPool(64, 2);
        threads.setName("berth-registry");
        server = new Server(threads);
        HttpConfiguration config = new HttpConfiguration();
        config.setSendServerVersion(false);
        config.setSendXPoweredBy(false);
        connector = new ServerConnector(server, new HttpConnectionFactory(config));
        connector.setHost(address);
        connector.setPort(port);
        server.addConnector(connector);
        server.setHandler(new RegistryHandler(storage));
    }

    public void start() throws Exception {
        server.start();
    }

    public void stop() throws Exception {
        server.stop();
    }

    /** The port listened on (the ephemeral one when configured with 0). */
    public int port() {
        return connector.getLocalPort();
    }

    public Path root() {
        return storage.root();
    }

    /** Deletes every blob no manifest references; returns the deleted digests and the bytes freed. */
    public RegistryStorage.GarbageCollection collectGarbage() throws IOException {
        return storage.collectGarbage();
    }

    /** As {@link #collectGarbage()}, sparing blobs younger than {@code minAge} (pushes in progress). */
    public RegistryStorage.GarbageCollection collectGarbage(Duration minAge) throws IOException {
        return storage.collectGarbage(minAge);
    }
}
