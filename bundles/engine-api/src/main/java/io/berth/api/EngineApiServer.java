package io.berth.api;

import io.berth.spi.containers.ContainerService;
import io.berth.spi.events.Events;
import io.berth.spi.images.ImageStore;
import io.berth.spi.images.LayerStore;
import io.berth.spi.images.RegistryClient;
import io.berth.spi.kernel.KernelProperties;
import io.berth.spi.network.NetworkService;
import io.berth.spi.shell.CommandShell;
import io.berth.spi.volumes.VolumeService;
import java.nio.channels.ServerSocketChannel;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * Serves the Engine API on every listening socket the kernel registers, for
 * as long as this bundle is active. Listeners and the shell may come and go
 * while it runs.
 */
@Component(immediate = true, configurationPid = KernelProperties.DAEMON_PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
public class EngineApiServer {

    /** The part of daemon.json this component reads: dockerd's TLS settings for tcp:// listeners. */
    @interface DaemonSettings {
        boolean tls() default false;

        boolean tlsverify() default false;

        String tlscacert() default "";

        String tlscert() default "";

        String tlskey() default "";
    }

    /** The TLS settings in effect, compared when daemon.json changes. */
    private record Tls(boolean on, boolean verify, String ca, String cert, String key) {
        static Tls of(DaemonSettings settings) {
            return new Tls(settings.tls() || settings.tlsverify(), settings.tlsverify(), settings.tlscacert(),
                    settings.tlscert(), settings.tlskey());
        }
    }

    private static final System.Logger LOG = System.getLogger("berth.api");

    private final Server server;
    private final HttpConnectionFactory http;
    private final EngineApiHandler handler;
    /** Listeners by their URI, with the connector serving each once the server runs. */
    private final Map<String, ServerSocketChannel> listeners = new LinkedHashMap<>();
    private final Map<String, KernelSocketConnector> connectors = new LinkedHashMap<>();
    private boolean running;
    private Tls tls;

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

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile NetworkService networks;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile RegistryClient registry;

    @Activate
    public EngineApiServer(BundleContext context, DaemonSettings settings) {
        tls = Tls.of(settings);
        String version = String.valueOf(context.getProperty(KernelProperties.VERSION));
        QueuedThreadPool threads = new QueuedThreadPool(128, 2);
        threads.setName("berth-api");
        server = new Server(threads);
        HttpConfiguration config = new HttpConfiguration();
        config.setSendServerVersion(false);
        config.setSendXPoweredBy(false);
        http = new HttpConnectionFactory(config);
        Routes routes = new Routes();
        Service<ContainerService> containerService = new Service<>(() -> containers,
                "the container service (bundle io.berth.containers)");
        Service<ImageStore> imageStore = new Service<>(() -> images, "the image store (bundle io.berth.images)");
        Service<LayerStore> layerStore = new Service<>(() -> layers, "the layer store (bundle io.berth.images)");
        Service<VolumeService> volumeService = new Service<>(() -> volumes,
                "the volume service (bundle io.berth.containers)");
        StreamEndpoints streams = new StreamEndpoints(containerService);
        streams.addTo(routes);
        new ContainerEndpoints(containerService, streams).addTo(routes);
        new ImageEndpoints(imageStore).addTo(routes);
        new TransferEndpoints(imageStore).addTo(routes);
        new SearchEndpoints(new Service<>(() -> registry, "the registry client (bundle io.berth.registry-client)"))
                .addTo(routes);
        new ArchiveEndpoints(containerService).addTo(routes);
        new StatsEndpoints(containerService).addTo(routes);
        new VolumeEndpoints(volumeService).addTo(routes);
        new EventEndpoints(new Service<>(() -> events, "the event log (bundle io.berth.containers)")).addTo(routes);
        new NetworkEndpoints(new Service<>(() -> networks, "the network service (bundle io.berth.containers)"),
                containerService).addTo(routes);
        new SystemEndpoints(version, String.valueOf(context.getProperty(KernelProperties.DATA_ROOT)),
                containerService, imageStore, layerStore, volumeService).addTo(routes);
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

    /** New TLS settings take effect on the tcp:// listeners at once; unix sockets and open streams are untouched. */
    @Modified
    synchronized void modified(DaemonSettings settings) throws Exception {
        Tls changed = Tls.of(settings);
        if (changed.equals(tls)) {
            return;
        }
        tls = changed;
        for (Map.Entry<String, ServerSocketChannel> listener : listeners.entrySet()) {
            if (listener.getKey().startsWith("tcp://") && running) {
                KernelSocketConnector old = connectors.remove(listener.getKey());
                if (old != null) {
                    old.stop();
                    server.removeConnector(old);
                }
                serve(listener.getKey(), listener.getValue());
            }
        }
    }

    private void serve(String uri, ServerSocketChannel channel) throws Exception {
        KernelSocketConnector connector;
        if (uri.startsWith("tcp://") && tls.on()) {
            SslContextFactory.Server context;
            try {
                context = TlsFiles.context(TlsFiles.orDefault(tls.ca(), "ca.pem"),
                        TlsFiles.orDefault(tls.cert(), "cert.pem"), TlsFiles.orDefault(tls.key(), "key.pem"),
                        tls.verify());
            } catch (IllegalArgumentException e) {
                // the other listeners go on; the kernel keeps this one's socket for when the files are right
                LOG.log(System.Logger.Level.ERROR, "not serving " + uri + ": " + e.getMessage());
                return;
            }
            connector = new KernelSocketConnector(server, channel, uri,
                    new SslConnectionFactory(context, http.getProtocol()), http);
        } else {
            if (uri.startsWith("tcp://")) {
                LOG.log(System.Logger.Level.WARNING, "serving " + uri + " without TLS: anyone who reaches it"
                        + " controls the daemon");
            }
            connector = new KernelSocketConnector(server, channel, uri, http);
        }
        server.addConnector(connector);
        connector.start();
        connectors.put(uri, connector);
        LOG.log(System.Logger.Level.INFO, "API listening on " + uri
                + (uri.startsWith("tcp://") && tls.on() ? tls.verify() ? " (TLS, client certificates verified)"
                : " (TLS)" : ""));
    }
}
