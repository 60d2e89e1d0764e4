package io.berth.spi.network;

/**
 * A container's attachment to a network, as the driver set it up.
 *
 * @param endpointId   the endpoint's id
 * @param interfaceName the interface's name inside the container, e.g. {@code eth0}; empty if none
 * @param macAddress   its MAC address; empty if none
 * @param ipv4Address  its address in CIDR form, e.g. {@code 172.18.0.2/16}; empty if none
 * @param gateway      the default gateway; empty if none
 */
public record Endpoint(String endpointId, String interfaceName, String macAddress, String ipv4Address, String gateway) {
}
