package io.berth.api;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.Executor;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.SelectorManager;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.server.AbstractConnector;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * A Jetty connector that serves a listening socket the kernel owns.
 *
 * <p>Jetty's own connectors bind their socket and close it when they stop,
 * and Jetty's selector closes any server channel registered with it when it
 * shuts down. So this connector keeps the kernel's channel away from Jetty:
 * its own accept thread waits on a private selector, accepts, and hands each
 * connection to Jetty. Stopping closes only that private selector; the
 * kernel's channel stays open, and clients that connect while this bundle is
 * being updated wait in its backlog for the next version. The accept thread
 * is never interrupted: an interrupt during {@code accept()} would close the
 * channel.
 */
final class KernelSocketConnector extends AbstractConnector {

    private static final System.Logger LOG = System.getLogger("berth.api");

    private final ServerSocketChannel channel;
    private final String uri;
    private final SelectorManager selectors;
    private volatile boolean accepting;
    private Selector acceptSelector;
    private Thread acceptThread;

    /** @param factories the protocols, outermost first (TLS, then HTTP; or HTTP alone) */
    KernelSocketConnector(Server server, ServerSocketChannel channel, String uri, ConnectionFactory... factories) {
        super(server, null, null, null, 0, factories);
        this.channel = channel;
        this.uri = uri;
        this.selectors = new KernelSelectorManager(getExecutor(), getScheduler());
        installBean(selectors, true);
        setIdleTimeout(0); // streams (logs -f, events, attach) stay open as long as the client wants
    }

    String uri() {
        return uri;
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        channel.configureBlocking(false);
        acceptSelector = Selector.open();
        channel.register(acceptSelector, SelectionKey.OP_ACCEPT);
        accepting = true;
        acceptThread = new Thread(this::acceptLoop, "berth-api-accept " + uri);
        acceptThread.setDaemon(true);
        acceptThread.start();
    }

    @Override
    protected void doStop() throws Exception {
        accepting = false;
        acceptSelector.wakeup();
        acceptThread.join();
        acceptSelector.close(); // deregisters the kernel's channel without closing it
        super.doStop();
    }

    private void acceptLoop() {
        while (accepting) {
            try {
                acceptSelector.select();
                acceptSelector.selectedKeys().clear();
                SocketChannel socket;
                while (accepting && (socket = channel.accept()) != null) {
                    socket.configureBlocking(false);
                    if (socket.supportedOptions().contains(StandardSocketOptions.TCP_NODELAY)) {
                        socket.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    }
                    selectors.accept(socket);
                }
            } catch (IOException | RuntimeException e) {
                if (accepting) {
                    LOG.log(System.Logger.Level.WARNING, "accepting on " + uri + " failed", e);
                }
                if (!channel.isOpen()) {
                    return;
                }
            }
        }
    }

    @Override
    protected void accept(int acceptorId) {
        throw new UnsupportedOperationException("connections are accepted by the connector's own thread");
    }

    @Override
    public Object getTransport() {
        return channel;
    }

    @Override
    public String toString() {
        return "KernelSocketConnector[" + uri + "]";
    }

    private final class KernelSelectorManager extends SelectorManager {

        KernelSelectorManager(Executor executor, Scheduler scheduler) {
            super(executor, scheduler, 1);
        }

        @Override
        protected EndPoint newEndPoint(SelectableChannel socket, ManagedSelector selector, SelectionKey key) {
            SocketChannelEndPoint endPoint = new SocketChannelEndPoint((SocketChannel) socket, selector, key,
                    getScheduler());
            endPoint.setIdleTimeout(getIdleTimeout());
            return endPoint;
        }

        @Override
        public Connection newConnection(SelectableChannel socket, EndPoint endPoint, Object attachment) {
            return getDefaultConnectionFactory().newConnection(KernelSocketConnector.this, endPoint);
        }

        @Override
        protected void endPointOpened(EndPoint endPoint) {
            super.endPointOpened(endPoint);
            onEndPointOpened(endPoint);
        }

        @Override
        protected void endPointClosed(EndPoint endPoint) {
            onEndPointClosed(endPoint);
            super.endPointClosed(endPoint);
        }
    }
}
