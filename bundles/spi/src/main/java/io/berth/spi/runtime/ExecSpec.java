package io.berth.spi.runtime;

/**
 * An extra process for a running container ({@code docker exec}).
 *
 * @param process what to run, as whom, where; {@link RuntimeSpec.Process#terminal()} asks for a TTY
 * @param stdin   whether the process gets a stdin ({@code -i}); without one it reads EOF
 * @param rows    the TTY's height from the start, 0 when not known
 * @param columns the TTY's width from the start, 0 when not known
 */
public record ExecSpec(RuntimeSpec.Process process, boolean stdin, int rows, int columns) {

    /** An exec whose terminal size, if it has a terminal, comes later (resize). */
    public ExecSpec(RuntimeSpec.Process process, boolean stdin) {
        this(process, stdin, 0, 0);
    }
}
