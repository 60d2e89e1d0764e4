package io.berth.spi.runtime;

/**
 * What a container uses, from its cgroups ({@code docker stats}).
 *
 * @param cpuNanos     CPU time used since it started, in nanoseconds
 * @param memoryBytes  memory in use (without the page cache that can be reclaimed, as Docker shows it)
 * @param memoryLimit  the memory limit, or the host's memory when unlimited
 * @param pids         how many processes and threads it has
 */
public record ResourceUsage(long cpuNanos, long memoryBytes, long memoryLimit, long pids) {
}
