package io.berth.spi.runtime;

/**
 * A container's state as its runtime reports it.
 *
 * @param id       the container's id
 * @param status   the OCI status
 * @param pid      the init process's host pid, 0 if none
 * @param exitCode the exit code once {@link Status#STOPPED}, else -1
 */
public record ContainerState(String id, Status status, long pid, int exitCode) {

    /** The OCI runtime spec's container statuses. */
    public enum Status { CREATING, CREATED, RUNNING, PAUSED, STOPPED }
}
