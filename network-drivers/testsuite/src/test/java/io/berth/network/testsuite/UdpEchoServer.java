package io.berth.network.testsuite;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A UDP server for the tests (busybox's nc here has no {@code -u}): answers
 * every datagram with {@code got <datagram>}; prints {@code listening} once bound. Runs as its own JVM inside a
 * test namespace ({@link TestNamespaces#startUdpEcho}).
 */
public final class UdpEchoServer {

    private UdpEchoServer() {
    }

    public static void main(String[] args) throws IOException {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(Integer.parseInt(args[0])))) {
            System.out.println("listening");
            System.out.flush();
            byte[] buffer = new byte[1500];
            while (true) {
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                socket.receive(packet);
                byte[] answer = ("got " + new String(packet.getData(), 0, packet.getLength(), StandardCharsets.UTF_8))
                        .getBytes(StandardCharsets.UTF_8);
                socket.send(new DatagramPacket(answer, answer.length, packet.getSocketAddress()));
            }
        }
    }

    /**
     * Sends {@code text} to {@code host:port} from this JVM (the host's
     * namespace) and returns the answer, or {@code ""} when none came within a second.
     */
    public static String ask(String host, int port, String text) throws IOException {
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout(1000);
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            socket.send(new DatagramPacket(bytes, bytes.length, InetAddress.getByName(host), port));
            byte[] buffer = new byte[1500];
            DatagramPacket answer = new DatagramPacket(buffer, buffer.length);
            socket.receive(answer);
            return new String(answer.getData(), 0, answer.getLength(), StandardCharsets.UTF_8);
        } catch (SocketTimeoutException e) {
            return "";
        }
    }
}
