package io.berth.spi.containers;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * {@code docker exec}: the Engine API's exec config. {@code User} and {@code WorkingDir} default to the
 * container's; {@code Env} adds to the container's environment.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ExecConfig(@JsonProperty("Cmd") List<String> cmd,
                         @JsonProperty("Env") List<String> env,
                         @JsonProperty("User") String user,
                         @JsonProperty("WorkingDir") String workingDir,
                         @JsonProperty("Tty") boolean tty,
                         @JsonProperty("AttachStdin") boolean attachStdin,
                         @JsonProperty("Privileged") boolean privileged) {
}
