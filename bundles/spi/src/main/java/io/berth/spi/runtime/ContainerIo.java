package io.berth.spi.runtime;

import java.nio.file.Path;

/**
 * Where a container's output goes and whether its stdin stays open for attaching.
 *
 * @param logFile    the log file the supervisor writes (k8s-file format: {@code TIME STREAM P|F TEXT} per line)
 * @param logSizeMax the size at which the log is truncated, or 0 for no limit
 * @param openStdin  keep stdin open for {@link ContainerRuntime#attach} ({@code docker run -i})
 */
public record ContainerIo(Path logFile, long logSizeMax, boolean openStdin) {
}
