package io.berth.api;

import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpStatus;

/**
 * A service an endpoint needs, which may come and go while the API runs (bundles are updated under it): while it
 * is away, a request gets 503 with what is missing.
 */
final class Service<T> {

    private final Supplier<T> current;
    private final String description;

    /** @param description what is missing, e.g. {@code the image store (bundle io.berth.images)} */
    Service(Supplier<T> current, String description) {
        this.current = current;
        this.description = description;
    }

    /** The service, or an {@link ApiException} 503 when it is not running. */
    T get() {
        T service = current.get();
        if (service == null) {
            throw new ApiException(HttpStatus.SERVICE_UNAVAILABLE_503, description + " is not running");
        }
        return service;
    }

    /** The service, or null when it is not running (for answers that do without it). */
    T orNull() {
        return current.get();
    }
}
