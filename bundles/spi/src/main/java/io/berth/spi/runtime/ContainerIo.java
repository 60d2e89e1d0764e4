package io.berth.spi.runtime;

import java.nio.file.Path;

/**
 * Where a container's output goes and whether its stdin stays open for attaching.
 *
 * @param logFile    the log file the supervisor writes (k8s-file format: {@code TIME STREAM P|F TEXT} per line)
 * @param logSizeMax the size at which the log is truncated, or 0 for no limit
 * @param openStdin  keep stdin open for {@link ContainerRuntime#attach} ({@code docker run -i})
 * @param stdinOnce  close stdin when the first attached client goes ({@code docker run -i} in the foreground);
 *                   otherwise it stays open for the next one ({@code docker run -dit}, then attach and detach
 *                   as often as wanted)
 */
public record ContainerIo(Path logFile, long logSizeMax, boolean openStdin, boolean stdinOnce) {

    /** stdin, if open, closes when the first attached client goes (as before {@code stdinOnce} existed). */
    public ContainerIo(Path logFile, long logSizeMax, boolean openStdin) {
        this(logFile, logSizeMax, openStdin, true);
    }
}
