package io.berth.spi.containers;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * {@code docker exec}: the Engine API's exec config. {@code User} and {@code WorkingDir} default to the
 * container's; {@code Env} adds to the container's environment. {@code ConsoleSize}, {@code [rows, columns]} or
 * null, is the size a TTY has from the start (before a resize could arrive).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ExecConfig(@JsonProperty("Cmd") List<String> cmd,
                         @JsonProperty("Env") List<String> env,
                         @JsonProperty("User") String user,
                         @JsonProperty("WorkingDir") String workingDir,
                         @JsonProperty("Tty") boolean tty,
                         @JsonProperty("AttachStdin") boolean attachStdin,
                         @JsonProperty("Privileged") boolean privileged,
                         @JsonProperty("ConsoleSize") List<Integer> consoleSize) {

    /** An exec config without an initial terminal size. */
    public ExecConfig(List<String> cmd, List<String> env, String user, String workingDir, boolean tty,
                      boolean attachStdin, boolean privileged) {
        this(cmd, env, user, workingDir, tty, attachStdin, privileged, null);
    }

    /** The same with {@code ConsoleSize} {@code [rows, columns]}: the terminal's size from its start. */
    public ExecConfig withConsoleSize(List<Integer> size) {
        return new ExecConfig(cmd, env, user, workingDir, tty, attachStdin, privileged, size);
    }
}
