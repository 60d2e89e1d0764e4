package io.berth.itests;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A bare HTTP/1.1 exchange over a unix socket, for polling {@code /_ping}
 * while a daemon starts (curl and the docker CLI are what the tests use
 * otherwise). Asks the server to close, then returns everything it sent.
 */
final class UnixHttp {

    private UnixHttp() {
    }

    static String get(Path socket, String path) throws IOException {
        try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            sendGet(client, path);
            return readAll(client);
        }
    }

    /** The response, or the exception's text when the socket does not answer (yet). */
    static String tryGet(Path socket, String path) {
        try {
            return get(socket, path);
        } catch (IOException e) {
            return e.toString();
        }
    }

    static void sendGet(SocketChannel client, String path) throws IOException {
        OutputStream out = Channels.newOutputStream(client);
        out.write(("GET " + path + " HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    static String readAll(SocketChannel client) throws IOException {
        InputStream in = Channels.newInputStream(client);
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
}
