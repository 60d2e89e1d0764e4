package io.berth.kernel;

import java.nio.file.Path;

/**
 * One {@code -H}/{@code hosts} entry. Only {@code unix://} is served so far;
 * TCP with mutual TLS is the Engine API's next step and is refused with a
 * clear message until then, rather than opened without protection.
 *
 * @param uri  the address as given, e.g. {@code unix:///run/berth/berth.sock}
 * @param path the socket file
 */
public record ListenAddress(String uri, Path path) {

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
            return new ListenAddress("unix://" + path, Path.of(path));
        }
        if (host.startsWith("tcp://") || host.startsWith("fd://") || host.startsWith("ssh://")) {
            throw new UsageException("invalid host " + host + ": berth listens on unix:// sockets only so far");
        }
        throw new UsageException("invalid host " + host + ": expected unix:///path/to/socket");
    }
}
