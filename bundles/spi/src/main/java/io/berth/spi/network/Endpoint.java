package io.berth.spi.network;

import java.util.List;
import java.util.Objects;

/**
 * A container's attachment to a network, as the driver set it up: what
 * {@code docker inspect} shows under {@code NetworkSettings.Networks}.
 *
 * @param networkId     the network's id
 * @param endpointId    the endpoint's id
 * @param hostNamespace {@code true} when the container uses the host's own network namespace (host driver):
 *                      then nothing was created and the other fields are empty
 * @param interfaceName the interface inside the container, e.g. {@code eth0}; empty if none
 * @param macAddress    its MAC address, e.g. {@code 02:42:ac:11:00:02}; empty if none
 * @param ipv4Address   its address in CIDR form, e.g. {@code 172.17.0.2/16}; empty if none
 * @param gateway       the default gateway; empty if none (or an internal network)
 * @param ports         the ports published to the host, each with the host port actually used
 */
public record Endpoint(String networkId, String endpointId, boolean hostNamespace, String interfaceName,
                       String macAddress, String ipv4Address, String gateway, List<PortMapping> ports) {

    public Endpoint {
        Objects.requireNonNull(networkId, "networkId");
        Objects.requireNonNull(endpointId, "endpointId");
        interfaceName = interfaceName == null ? "" : interfaceName;
        macAddress = macAddress == null ? "" : macAddress;
        ipv4Address = ipv4Address == null ? "" : ipv4Address;
        gateway = gateway == null ? "" : gateway;
        ports = ports == null ? List.of() : List.copyOf(ports);
    }

    /** The address without its prefix length, e.g. {@code 172.17.0.2}; empty if none. */
    public String ipv4() {
        int slash = ipv4Address.indexOf('/');
        return slash < 0 ? ipv4Address : ipv4Address.substring(0, slash);
    }
}
