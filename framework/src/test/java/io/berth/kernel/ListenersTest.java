package io.berth.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ListenersTest {

    @TempDir
    Path dir;

    private static ListenAddress unix(Path socket) throws UsageException {
        return ListenAddress.parse("unix://" + socket);
    }

    /** Binds a socket file the way another process would, and returns its open server channel. */
    private static ServerSocketChannel foreignServer(Path socket) throws Exception {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        return server;
    }

    @Test
    void bindsSocketWithGroupOnlyPermissionsAndAcceptsClients() throws Exception {
        Path socket = dir.resolve("run/berth.sock");
        try (Listeners listeners = Listeners.bind(List.of(unix(socket)), null)) {
            assertEquals(PosixFilePermissions.fromString("rw-rw----"), Files.getPosixFilePermissions(socket));
            try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket));
                 SocketChannel accepted = listeners.channels().get(unix(socket)).accept()) {
                assertTrue(client.isConnected());
                assertTrue(accepted.isConnected());
            }
        }
    }

    @Test
    void staleSocketFileIsReplaced() throws Exception {
        Path socket = dir.resolve("berth.sock");
        foreignServer(socket).close(); // a killed daemon: the file stays, nobody listens
        assertTrue(Files.exists(socket));

        try (Listeners listeners = Listeners.bind(List.of(unix(socket)), null);
             SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            assertTrue(client.isConnected());
        }
    }

    @Test
    void socketServedByAnotherProcessIsRefused() throws Exception {
        Path socket = dir.resolve("berth.sock");
        try (ServerSocketChannel other = foreignServer(socket)) {
            UsageException e = assertThrows(UsageException.class, () -> Listeners.bind(List.of(unix(socket)), null));
            assertTrue(e.getMessage().contains(socket + " is in use"), e.getMessage());
            assertTrue(Files.exists(socket), "the other process's socket must be left alone");
        }
    }

    @Test
    void failedBindReleasesTheSocketsAlreadyBound() throws Exception {
        Path first = dir.resolve("first.sock");
        Path busy = dir.resolve("busy.sock");
        try (ServerSocketChannel other = foreignServer(busy)) {
            assertThrows(UsageException.class, () -> Listeners.bind(List.of(unix(first), unix(busy)), null));
            assertFalse(Files.exists(first));
        }
    }

    @Test
    void closeRemovesTheSocketFile() throws Exception {
        Path socket = dir.resolve("berth.sock");
        Listeners listeners = Listeners.bind(List.of(unix(socket)), null);
        assertTrue(Files.exists(socket));
        listeners.close();
        assertFalse(Files.exists(socket));
        assertTrue(listeners.channels().isEmpty());
    }
}
