package io.berth.spi.network;

import java.util.Map;
import java.util.Objects;

/**
 * A network as its driver holds it: what {@code docker network inspect}
 * shows under {@code IPAM} and {@code Options}.
 *
 * @param networkId     the network's id (the engine's name for it, e.g. {@code bridge})
 * @param driver        the name of the driver that holds it ({@code bridge}, {@code host}, {@code none})
 * @param subnet        its IPv4 subnet in CIDR form, e.g. {@code 172.17.0.0/16}; empty if it has none
 * @param gateway       its gateway address, e.g. {@code 172.17.0.1}; empty if it has none
 * @param internal      {@code true} when traffic may not leave the network (no NAT, no default route)
 * @param hostInterface the host's interface for it, e.g. the Linux bridge {@code berth0}; empty if none
 * @param options       the options it was created with
 */
public record Network(String networkId, String driver, String subnet, String gateway, boolean internal,
                      String hostInterface, Map<String, String> options) {

    public Network {
        Objects.requireNonNull(networkId, "networkId");
        Objects.requireNonNull(driver, "driver");
        subnet = subnet == null ? "" : subnet;
        gateway = gateway == null ? "" : gateway;
        hostInterface = hostInterface == null ? "" : hostInterface;
        options = options == null ? Map.of() : Map.copyOf(options);
    }
}
