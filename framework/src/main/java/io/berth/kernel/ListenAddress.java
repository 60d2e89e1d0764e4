package io.berth.kernel;

import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * One {@code -H}/{@code hosts} entry: a unix socket, or a TCP address (which the Engine API serves with TLS unless
 * plain TCP is asked for explicitly, see {@link DaemonConfig}).
 *
 * @param uri  the address as given, e.g. {@code unix:///run/berth/berth.sock}, {@code tcp://127.0.0.1:2376}
 * @param path the socket file, or null for TCP
 * @param tcp  the TCP address, or null for a unix socket
 */
public record ListenAddress(String uri, Path path, InetSocketAddress tcp) {

    /** dockerd's port for TCP with TLS when none is given. */
    static final int DEFAULT_TLS_PORT = 2376;

    public static ListenAddress parse(String host) throws UsageException {
        if (host.startsWith("unix://")) {
            String path = host.substring("unix://".length());
            if (path.isEmpty()) {
                path = "/run/berth/berth.sock";
            }
            if (!path.startsWith("/")) {
                throw new UsageException("invalid host " + host + ": the socket path must be absolute");
            }
            if (path.length() > 107) {
                throw new UsageException("invalid host " + host + ": a unix socket path may have at most 107 bytes");
            }
            return new ListenAddress("unix://" + path, Path.of(path), null);
        }
        if (host.startsWith("tcp://")) {
            return tcp(host, host.substring("tcp://".length()));
        }
        if (host.startsWith("fd://") || host.startsWith("ssh://")) {
            throw new UsageException("invalid host " + host + ": berth listens on unix:// and tcp:// addresses");
        }
        throw new UsageException("invalid host " + host + ": expected unix:///path/to/socket or tcp://HOST:PORT");
    }

    private static ListenAddress tcp(String host, String address) throws UsageException {
        if (address.endsWith("/")) {
            address = address.substring(0, address.length() - 1);
        }
        String name = address;
        int port = DEFAULT_TLS_PORT;
        int colon = address.lastIndexOf(':');
        if (colon >= 0 && !address.endsWith("]")) {
            name = address.substring(0, colon);
            try {
                port = Integer.parseInt(address.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new UsageException("invalid host " + host + ": the port must be a number");
            }
            if (port < 1 || port > 65535) {
                throw new UsageException("invalid host " + host + ": the port must be 1 to 65535");
            }
        }
        if (name.startsWith("[") && name.endsWith("]")) {
            name = name.substring(1, name.length() - 1);
        }
        if (name.isEmpty()) {
            name = "127.0.0.1"; // dockerd's default for tcp:// without a host
        }
        InetSocketAddress socket = new InetSocketAddress(name, port);
        if (socket.isUnresolved()) {
            throw new UsageException("invalid host " + host + ": cannot resolve " + name);
        }
        return new ListenAddress("tcp://" + (name.contains(":") ? "[" + name + "]" : name) + ":" + port, null, socket);
    }
}
