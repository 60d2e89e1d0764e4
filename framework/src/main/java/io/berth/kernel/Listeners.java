package io.berth.kernel;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The listening sockets, bound by the kernel before any bundle starts and
 * kept open for the daemon's whole life. The Engine API bundle accepts from
 * them; while it is being updated, new connections wait in the backlog
 * instead of being refused.
 */
public final class Listeners implements AutoCloseable {

    /** Deep enough for the connections that arrive while the API bundle is being replaced. */
    static final int BACKLOG = 1024;

    private final Map<ListenAddress, ServerSocketChannel> channels = new LinkedHashMap<>();

    public static Listeners bind(List<ListenAddress> addresses, String group) throws IOException, UsageException {
        Listeners listeners = new Listeners();
        try {
            for (ListenAddress address : addresses) {
                listeners.channels.put(address, address.tcp() != null ? bindTcp(address)
                        : bindUnix(address.path(), group));
            }
        } catch (IOException | UsageException | RuntimeException e) {
            listeners.close();
            throw e;
        }
        return listeners;
    }

    private static ServerSocketChannel bindUnix(Path path, String group) throws IOException, UsageException {
        Files.createDirectories(path.getParent());
        if (Files.exists(path) || Files.isSymbolicLink(path)) {
            if (isServed(path)) {
                throw new UsageException("socket " + path + " is in use by another process;"
                        + " stop it or choose another address with -H");
            }
            Files.delete(path); // left behind by a daemon that was killed
        }
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.bind(UnixDomainSocketAddress.of(path), BACKLOG);
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw----"));
            if (group != null && !group.isBlank()) {
                setGroup(path, group);
            }
        } catch (IOException | UsageException | RuntimeException e) {
            channel.close();
            throw e;
        }
        return channel;
    }

    private static ServerSocketChannel bindTcp(ListenAddress address) throws IOException, UsageException {
        ServerSocketChannel channel = ServerSocketChannel.open();
        try {
            channel.setOption(java.net.StandardSocketOptions.SO_REUSEADDR, true);
            channel.bind(address.tcp(), BACKLOG);
        } catch (java.net.BindException e) {
            channel.close();
            throw new UsageException("cannot listen on " + address.uri() + ": " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        return channel;
    }

    private static void setGroup(Path path, String group) throws IOException, UsageException {
        try {
            GroupPrincipal principal = path.getFileSystem().getUserPrincipalLookupService()
                    .lookupPrincipalByGroupName(group);
            Files.getFileAttributeView(path, PosixFileAttributeView.class).setGroup(principal);
        } catch (UserPrincipalNotFoundException e) {
            throw new UsageException("group " + group + " for socket " + path + " does not exist");
        }
    }

    private static boolean isServed(Path path) {
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public Map<ListenAddress, ServerSocketChannel> channels() {
        return channels;
    }

    @Override
    public void close() {
        for (Map.Entry<ListenAddress, ServerSocketChannel> entry : new ArrayList<>(channels.entrySet())) {
            try {
                entry.getValue().close();
                if (entry.getKey().path() != null) {
                    Files.deleteIfExists(entry.getKey().path());
                }
            } catch (IOException ignored) {
                // best effort at shutdown; a stale socket is detected and replaced at the next start
            }
        }
        channels.clear();
    }
}
