package io.berth.spi.runtime;

/**
 * A process started in a running container by {@link ContainerRuntime#exec}.
 */
public interface ExecProcess extends Attachment {

    /** The process's host pid. */
    long pid();

    /** Waits for the process to end and returns its exit code (128+N for a death by signal N). */
    int waitFor() throws InterruptedException;

    /** The exit code if it has ended, else -1; never blocks. */
    int exitCode();
}
