package io.berth.spi.network;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/**
 * A network as the Engine API's {@code GET /networks/{id}} shows it.
 *
 * @param name       its name
 * @param id         its id (64 hex digits)
 * @param created    RFC 3339
 * @param scope      {@code local}
 * @param driver     the driver that holds it
 * @param ipam       its address management: the subnet and gateway
 * @param internal   no way out ({@code --internal})
 * @param containers the connected containers by id
 * @param options    driver options
 * @param labels     user labels
 */
public record NetworkResource(@JsonProperty("Name") String name,
                              @JsonProperty("Id") String id,
                              @JsonProperty("Created") String created,
                              @JsonProperty("Scope") String scope,
                              @JsonProperty("Driver") String driver,
                              @JsonProperty("EnableIPv6") boolean enableIpv6,
                              @JsonProperty("IPAM") Ipam ipam,
                              @JsonProperty("Internal") boolean internal,
                              @JsonProperty("Attachable") boolean attachable,
                              @JsonProperty("Ingress") boolean ingress,
                              @JsonProperty("Containers") Map<String, Attached> containers,
                              @JsonProperty("Options") Map<String, String> options,
                              @JsonProperty("Labels") Map<String, String> labels) {

    /** {@code IPAM}: driver {@code default} and one config per subnet. */
    public record Ipam(@JsonProperty("Driver") String driver, @JsonProperty("Config") List<IpamConfig> config) {
    }

    public record IpamConfig(@JsonProperty("Subnet") String subnet, @JsonProperty("Gateway") String gateway) {
    }

    /** A connected container. */
    public record Attached(@JsonProperty("Name") String name,
                           @JsonProperty("EndpointID") String endpointId,
                           @JsonProperty("MacAddress") String macAddress,
                           @JsonProperty("IPv4Address") String ipv4Address,
                           @JsonProperty("IPv6Address") String ipv6Address) {
    }
}
