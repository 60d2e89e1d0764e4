package io.berth.spi.volumes;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Map;

/**
 * A volume as {@code docker volume inspect} shows it.
 *
 * @param name       its name (64 hex digits for an anonymous one)
 * @param driver     {@code local}
 * @param mountpoint the host directory holding its content
 * @param createdAt  RFC 3339
 * @param labels     its labels
 * @param scope      {@code local}
 * @param options    the driver options it was created with
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Volume(@JsonProperty("Name") String name,
                     @JsonProperty("Driver") String driver,
                     @JsonProperty("Mountpoint") String mountpoint,
                     @JsonProperty("CreatedAt") String createdAt,
                     @JsonProperty("Labels") Map<String, String> labels,
                     @JsonProperty("Scope") String scope,
                     @JsonProperty("Options") Map<String, String> options) {
}
