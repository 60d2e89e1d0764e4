package io.berth.containers;

import io.berth.spi.events.Event;
import io.berth.spi.events.Events;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/** The engine's event log service: the last 256 events (as many as dockerd keeps) and live subscriptions. */
@Component(service = Events.class)
public class EventsComponent implements Events {

    private static final int KEPT = 256;

    private final EventLog log = new EventLog(KEPT);

    @Override
    public void publish(Event event) {
        log.publish(event);
    }

    @Override
    public AutoCloseable subscribe(long sinceNanos, Predicate<Event> filter, Consumer<Event> subscriber) {
        return log.subscribe(sinceNanos, filter, subscriber);
    }

    @Deactivate
    void deactivate() {
        log.close();
    }
}
