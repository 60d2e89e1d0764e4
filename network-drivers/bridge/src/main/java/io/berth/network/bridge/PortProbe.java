package io.berth.network.bridge;

import io.berth.spi.network.PortMapping;
import io.berth.spi.network.PortMapping.Protocol;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;

/**
 * Decides whether a host port can be published: no other published port
 * of the driver holds it, and nothing on the host is bound to it (tried by
 * binding it for a moment, as the kernel would refuse another program).
 * Published ports are DNAT rules, so the port stays unbound afterwards, as
 * with Docker's {@code userland-proxy: false}.
 */
final class PortProbe {

    /** How often a free port is looked for when the caller leaves the choice to the driver. */
    private static final int ATTEMPTS = 20;

    /**
     * The mapping to publish: {@code requested} itself, or with a free host
     * port in place of 0.
     *
     * @throws IllegalArgumentException when the port is taken, or the host address is not the host's
     */
    PortMapping reserve(PortMapping requested, List<PortMapping> published) {
        if (requested.hostPort() != 0) {
            checkFree(requested, published);
            return requested;
        }
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            int port = bind(requested.protocol(), requested.hostIp(), 0);
            PortMapping candidate = new PortMapping(requested.protocol(), requested.hostIp(), port, requested.containerPort());
            if (published.stream().noneMatch(other -> clash(candidate, other))) {
                return candidate;
            }
        }
        throw new IllegalArgumentException("no free " + requested.protocol().label() + " port found on " + requested.hostIp());
    }

    private static void checkFree(PortMapping requested, List<PortMapping> published) {
        for (PortMapping other : published) {
            if (clash(requested, other)) {
                throw new IllegalArgumentException("Bind for " + requested.hostIp() + ":" + requested.hostPort()
                        + " failed: port is already allocated (published as " + other + ")");
            }
        }
        bind(requested.protocol(), requested.hostIp(), requested.hostPort());
    }

    /** The same port and protocol on the same host address, or on all of them on either side. */
    private static boolean clash(PortMapping a, PortMapping b) {
        return a.protocol() == b.protocol() && a.hostPort() == b.hostPort()
                && (a.hostIp().equals(b.hostIp()) || a.hostIp().equals(PortMapping.ANY_HOST_IP)
                        || b.hostIp().equals(PortMapping.ANY_HOST_IP));
    }

    /** Binds the port for a moment and returns its number; says clearly why when it cannot. */
    private static int bind(Protocol protocol, String hostIp, int port) {
        try {
            InetSocketAddress address = new InetSocketAddress(InetAddress.getByName(hostIp), port);
            if (protocol == Protocol.TCP) {
                try (ServerSocket socket = new ServerSocket()) {
                    socket.setReuseAddress(false);
                    socket.bind(address);
                    return socket.getLocalPort();
                }
            }
            try (DatagramSocket socket = new DatagramSocket(null)) {
                socket.setReuseAddress(false);
                socket.bind(address);
                return socket.getLocalPort();
            }
        } catch (java.net.BindException e) {
            String why = e.getMessage() != null && e.getMessage().contains("assign")
                    ? hostIp + " is not an address of this host"
                    : "address already in use";
            throw new IllegalArgumentException("failed to bind host port " + hostIp + ":" + port + "/" + protocol.label()
                    + ": " + why);
        } catch (IOException e) {
            throw new IllegalArgumentException("failed to bind host port " + hostIp + ":" + port + "/" + protocol.label()
                    + ": " + e.getMessage());
        }
    }
}
