package io.berth.spi.events;

import java.util.function.Consumer;
import java.util.function.Predicate;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The engine's event log: every subsystem publishes, the front doors subscribe. Recent events are kept in memory
 * so a subscriber can ask for those since a time ({@code docker events --since}).
 */
@ProviderType
public interface Events {

    /** Records an event and hands it to every matching subscriber. */
    void publish(Event event);

    /**
     * Delivers the kept events at or after {@code sinceNanos} (0 for none) and then every new one that matches,
     * in order, until the returned handle is closed. A slow subscriber does not block publishers.
     */
    AutoCloseable subscribe(long sinceNanos, Predicate<Event> filter, Consumer<Event> subscriber);
}
