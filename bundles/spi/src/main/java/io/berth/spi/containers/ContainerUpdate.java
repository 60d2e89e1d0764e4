package io.berth.spi.containers;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * What {@code docker update} changes ({@code POST /containers/{id}/update}, named as the API names it): a value of
 * 0 (null for {@code PidsLimit} and {@code RestartPolicy}) leaves that setting as it is. A {@code PidsLimit} of 0 or
 * less removes the limit.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ContainerUpdate(
        @JsonProperty("Memory") long memory,
        @JsonProperty("MemorySwap") long memorySwap,
        @JsonProperty("NanoCpus") long nanoCpus,
        @JsonProperty("CpuShares") long cpuShares,
        @JsonProperty("PidsLimit") Long pidsLimit,
        @JsonProperty("RestartPolicy") HostConfig.RestartPolicy restartPolicy) {
}
