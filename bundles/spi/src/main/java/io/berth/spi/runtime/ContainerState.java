package io.berth.spi.runtime;

import java.time.Instant;

/**
 * A container's state as its runtime reports it.
 *
 * @param id         the container's id
 * @param status     the OCI status
 * @param pid        the init process's host pid, 0 if none
 * @param exitCode   the exit code once {@link Status#STOPPED} (128+N for a death by signal N), else -1
 * @param finishedAt when it stopped, or null while it has not
 * @param oomKilled  whether the kernel's OOM killer ended it
 */
public record ContainerState(String id, Status status, long pid, int exitCode, Instant finishedAt, boolean oomKilled) {

    /** The OCI runtime spec's container statuses. */
    public enum Status { CREATING, CREATED, RUNNING, PAUSED, STOPPED }
}
