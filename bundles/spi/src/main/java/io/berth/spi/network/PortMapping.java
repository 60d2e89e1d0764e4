package io.berth.spi.network;

import java.util.Locale;
import java.util.Objects;

/**
 * A container port published on the host: {@code -p [hostIp:]hostPort:containerPort[/tcp|udp]}.
 *
 * @param protocol      tcp or udp
 * @param hostIp        the host address it listens on; {@code 0.0.0.0} for all of the host's addresses
 * @param hostPort      the host port; 0 in a request lets the driver pick a free one
 * @param containerPort the port inside the container
 */
public record PortMapping(Protocol protocol, String hostIp, int hostPort, int containerPort) {

    /** The transport protocols a port can be published for. */
    public enum Protocol {
        TCP, UDP;

        /** {@code tcp} or {@code udp}, as Docker writes it. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** Parses {@code tcp} or {@code udp} (any case). */
        public static Protocol parse(String text) {
            for (Protocol protocol : values()) {
                if (protocol.label().equalsIgnoreCase(text)) {
                    return protocol;
                }
            }
            throw new IllegalArgumentException("unknown protocol '" + text + "': use tcp or udp");
        }
    }

    /** The host address that means "every address of the host". */
    public static final String ANY_HOST_IP = "0.0.0.0";

    public PortMapping {
        Objects.requireNonNull(protocol, "protocol");
        hostIp = hostIp == null || hostIp.isEmpty() ? ANY_HOST_IP : hostIp;
        if (hostPort < 0 || hostPort > 65535) {
            throw new IllegalArgumentException("invalid host port " + hostPort + ": must be 0 to 65535");
        }
        if (containerPort < 1 || containerPort > 65535) {
            throw new IllegalArgumentException("invalid container port " + containerPort + ": must be 1 to 65535");
        }
    }

    @Override
    public String toString() {
        return hostIp + ":" + hostPort + "->" + containerPort + "/" + protocol.label();
    }
}
