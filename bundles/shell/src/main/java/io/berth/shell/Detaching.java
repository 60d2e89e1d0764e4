package io.berth.shell;

import io.berth.spi.events.Events;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Tells, once an attachment's output has ended, whether the caller typed the detach keys (the container keeps
 * running) or the container exited: the container service reports a detach as a {@code detach} event.
 */
final class Detaching implements AutoCloseable {

    /** What docker prints when the detach keys end an attachment. */
    static final String MESSAGE = "read escape sequence";

    private final CompletableFuture<Void> detached = new CompletableFuture<>();
    private final AutoCloseable subscription;

    /** Watches for the detach of container {@code id} (its full id); open it before attaching. */
    Detaching(Events events, String id) {
        subscription = events.subscribe(0, event -> "container".equals(event.type())
                && "detach".equals(event.action()) && id.equals(event.actor().id()), event -> detached.complete(null));
    }

    /** Waits for whichever comes first, the detach or the exit; {@code true} for a detach. */
    boolean detachedBefore(CompletableFuture<Integer> exit) throws InterruptedException {
        try {
            CompletableFuture.anyOf(exit, detached).get();
        } catch (ExecutionException e) {
            // the exit could not be watched: report what is known
        }
        return detached.isDone();
    }

    @Override
    public void close() {
        try {
            subscription.close();
        } catch (Exception ignored) {
            // the event log has gone away
        }
    }
}
