package io.berth.api;

import java.io.Closeable;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.Executor;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.SelectorManager;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.server.AbstractConnector;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * A Jetty connector that serves a listening socket the kernel owns.
 *
 * <p>Jetty's own connectors bind their socket and close it when they stop.
 * This one only borrows it: it registers the channel with its selector to
 * accept connections and, when stopped, merely stops accepting. The kernel's
 * channel stays open, so while this bundle is updated new clients wait in the
 * socket's backlog and are served by the next version. The channel is never
 * accepted from in blocking mode: an acceptor thread interrupted while
 * blocked in {@code accept()} would close it.
 */
final class KernelSocketConnector extends AbstractConnector {

    private final ServerSocketChannel channel;
    private final String uri;
    private final SelectorManager selectors;
    private Closeable acceptor;

    KernelSocketConnector(Server server, HttpConnectionFactory http, ServerSocketChannel channel, String uri) {
        super(server, null, null, null, 0, http);
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
        channel.configureBlocking(false);
        super.doStart();
        acceptor = selectors.acceptor(channel);
    }

    @Override
    protected void doStop() throws Exception {
        Closeable current = acceptor;
        acceptor = null;
        if (current != null) {
            current.close(); // cancels the selection key; the channel itself stays open
        }
        super.doStop();
    }

    @Override
    protected void accept(int acceptorId) {
        throw new UnsupportedOperationException("connections are accepted by the selector");
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
        protected void accepted(SelectableChannel accepted) throws IOException {
            SocketChannel socket = (SocketChannel) accepted;
            socket.configureBlocking(false);
            if (socket.supportedOptions().contains(StandardSocketOptions.TCP_NODELAY)) {
                socket.setOption(StandardSocketOptions.TCP_NODELAY, true);
            }
            accept(socket);
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
