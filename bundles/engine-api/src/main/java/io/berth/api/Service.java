package io.berth.api;

import java.time.Duration;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpStatus;

/**
 * A service an endpoint needs, which may come and go while the API runs (bundles are updated under it). A request
 * that finds it away waits for it, as a client of an updated bundle should not notice the update: up to
 * {@link #GRACE} (by default) from the moment it was first found away (an update takes well under a second). Once it has been
 * away longer (its bundle is stopped or not installed), requests get 503 with what is missing at once.
 */
final class Service<T> {

    /** How long requests wait for a service that went away before they are answered 503. */
    static final Duration GRACE = Duration.ofSeconds(10);
    private static final long POLL_MILLIS = 5;

    private final Supplier<T> current;
    private final String description;
    private final Duration grace;
    /** System.nanoTime() when a request first found the service away; 0 while it is there. */
    private volatile long awaySince;

    /** @param description what is missing, e.g. {@code the image store (bundle io.berth.images)} */
    Service(Supplier<T> current, String description) {
        this(current, description, GRACE);
    }

    Service(Supplier<T> current, String description, Duration grace) {
        this.current = current;
        this.description = description;
        this.grace = grace;
    }

    /** The service (waiting for it within the grace), or an {@link ApiException} 503 when it is not running. */
    T get() {
        T service = current.get();
        if (service != null) {
            awaySince = 0;
            return service;
        }
        long now = System.nanoTime();
        long since = awaySince;
        if (since == 0) {
            awaySince = since = now;
        }
        long deadline = since + grace.toNanos();
        while ((service = current.get()) == null && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (service == null) {
            throw new ApiException(HttpStatus.SERVICE_UNAVAILABLE_503, description + " is not running");
        }
        awaySince = 0;
        return service;
    }

    /** The service, or null when it is not running (for answers that do without it). */
    T orNull() {
        return current.get();
    }
}
