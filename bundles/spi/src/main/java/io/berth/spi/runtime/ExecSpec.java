package io.berth.spi.runtime;

/**
 * An extra process for a running container ({@code docker exec}).
 *
 * @param process what to run, as whom, where; {@link RuntimeSpec.Process#terminal()} asks for a TTY
 * @param stdin   whether the process gets a stdin ({@code -i}); without one it reads EOF
 */
public record ExecSpec(RuntimeSpec.Process process, boolean stdin) {
}
