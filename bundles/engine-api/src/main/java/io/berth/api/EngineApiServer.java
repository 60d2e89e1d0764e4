package io.berth.api;

import io.berth.spi.containers.ContainerService;
import io.berth.spi.events.Events;
import io.berth.spi.images.ImageStore;
import io.berth.spi.images.LayerStore;
import io.berth.spi.kernel.KernelProperties;
import io.berth.spi.shell.CommandShell;
import io.berth.spi.volumes.VolumeService;
import java.nio.channels.ServerSocketChannel;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * Serves the Engine API on every listening socket the kernel registers, for
 * as long as this bundle is active. Listeners and the shell may come and go
 * while it runs.
 */
@Component(immediate = true)
public class EngineApiServer {

    private static final System.Logger LOG = System.getLogger("berth.api");

    private final Server server;
    private final HttpConnectionFactory http;
    private final EngineApiHandler handler;
    /** Listeners by their URI, with the connector serving each once the server runs. */
    private final Map<String, ServerSocketChannel> listeners = new LinkedHashMap<>();
    private final Map<String, KernelSocketConnector> connectors = new LinkedHashMap<>();
    private boolean running;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile CommandShell shell;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile ContainerService containers;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile ImageStore images;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile LayerStore layers;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile VolumeService volumes;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Events events;

    @Activate
    public EngineApiServer(BundleContext context) {
        String version = String.valueOf(context.getProperty(KernelProperties.VERSION));
        QueuedThreadPool threads = new QueuedThreadPool(128, 2);
        threads.setName("berth-api");
        server = new Server(threads);
        HttpConfiguration config = new HttpConfiguration();
        config.setSendServerVersion(false);
        config.setSendXPoweredBy(false);
        http = new HttpConnectionFactory(config);
        Routes routes = new Routes();
        new ContainerEndpoints(() -> containers).addTo(routes);
        new ImageEndpoints(() -> images).addTo(routes);
        new TransferEndpoints(() -> images).addTo(routes);
        new ArchiveEndpoints(() -> containers).addTo(routes);
        new StatsEndpoints(() -> containers).addTo(routes);
        new VolumeEndpoints(() -> volumes).addTo(routes);
        new EventEndpoints(() -> events).addTo(routes);
        new SystemEndpoints(version, String.valueOf(context.getProperty(KernelProperties.DATA_ROOT)),
                () -> containers, () -> images, () -> layers, () -> volumes).addTo(routes);
        handler = new EngineApiHandler(version, () -> shell, routes);
        server.setHandler(handler);
    }

    @Activate
    synchronized void start() throws Exception {
        server.start();
        running = true;
        for (Map.Entry<String, ServerSocketChannel> listener : listeners.entrySet()) {
            serve(listener.getKey(), listener.getValue());
        }
    }

    @Deactivate
    synchronized void stop() throws Exception {
        running = false;
        handler.closeSessions();
        server.stop(); // stops the connectors: they stop accepting, the kernel's sockets stay open
        connectors.clear();
    }

    @Reference(service = ServerSocketChannel.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            target = "(" + KernelProperties.LISTENER_URI + "=*)")
    synchronized void addListener(ServerSocketChannel channel, Map<String, Object> properties) throws Exception {
        String uri = String.valueOf(properties.get(KernelProperties.LISTENER_URI));
        listeners.put(uri, channel);
        if (running) {
            serve(uri, channel);
        }
    }

    synchronized void removeListener(ServerSocketChannel channel, Map<String, Object> properties) throws Exception {
        String uri = String.valueOf(properties.get(KernelProperties.LISTENER_URI));
        listeners.remove(uri);
        KernelSocketConnector connector = connectors.remove(uri);
        if (connector != null) {
            connector.stop();
            server.removeConnector(connector);
        }
    }

    private void serve(String uri, ServerSocketChannel channel) throws Exception {
        KernelSocketConnector connector = new KernelSocketConnector(server, http, channel, uri);
        server.addConnector(connector);
        connector.start();
        connectors.put(uri, connector);
        LOG.log(System.Logger.Level.INFO, "API listening on " + uri);
    }
}
