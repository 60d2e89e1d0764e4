package io.berth.api;

import io.berth.spi.events.Event;
import io.berth.spi.events.Events;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.eclipse.jetty.http.HttpStatus;

/**
 * {@code GET /events}: the kept events since {@code since}, then new ones as they happen, one flushed JSON line
 * each, until {@code until} or until the client goes; filtered by {@code type}, {@code event}, {@code container},
 * {@code image} and {@code label} as dockerd filters.
 */
final class EventEndpoints {

    private static final List<String> KINDS = List.of("type", "event", "container", "image", "label", "volume");

    /**
     * How long to wait, once {@code until} has passed, for the next kept event: they come through the subscriber's
     * own thread, whose first event on a cold daemon took over 200 ms here.
     */
    private static final long FIRST_BACKLOG_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long NEXT_BACKLOG_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    private final Service<Events> service;

    EventEndpoints(Service<Events> service) {
        this.service = service;
    }

    void addTo(Routes routes) {
        routes.add("GET", "/events", this::events);
    }

    private void events(Exchange x) throws IOException {
        Events events = service.get();
        Map<String, List<String>> filters = x.filters();
        for (String kind : filters.keySet()) {
            if (!KINDS.contains(kind)) {
                throw new ApiException(HttpStatus.BAD_REQUEST_400, "invalid filter '" + kind + "'");
            }
        }
        Long since = nanos(x.query("since"), "since");
        Long until = nanos(x.query("until"), "until");
        BlockingQueue<Event> queue = new LinkedBlockingQueue<>();
        x.stream(HttpStatus.OK_200, "application/json", out -> {
            out.flush(); // the headers go at once: the CLI waits for them before it prints anything
            try (AutoCloseable subscription = events.subscribe(since == null ? 0 : since, matches(filters),
                    queue::add)) {
                boolean any = false;
                while (true) {
                    long left = until == null ? Long.MAX_VALUE : until - nanosNow();
                    // Past until, the kept events still come through the subscriber's own thread: wait a moment
                    // for each before the stream ends.
                    long wait = left > 0 ? Math.min(left, TimeUnit.SECONDS.toNanos(1))
                            : any ? NEXT_BACKLOG_WAIT_NANOS : FIRST_BACKLOG_WAIT_NANOS;
                    Event event = queue.poll(wait, TimeUnit.NANOSECONDS);
                    if (event == null) {
                        if (left <= 0) {
                            return;
                        }
                        continue;
                    }
                    any = true;
                    if (until != null && event.timeNano() > until) {
                        return;
                    }
                    out.write((Exchange.JSON.writeValueAsString(event) + "\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
            } catch (IOException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException(e);
            }
        });
    }

    private static Predicate<Event> matches(Map<String, List<String>> filters) {
        return event -> {
            Map<String, String> attributes = event.actor().attributes() == null ? Map.of() : event.actor().attributes();
            return Filters.any(filters, "type", event.type()::equals)
                    && Filters.any(filters, "event", event.action()::equals)
                    && Filters.any(filters, "container", v -> event.type().equals("container")
                            && (event.actor().id().startsWith(v) || v.equals(attributes.get("name"))))
                    && Filters.any(filters, "image", v -> v.equals(attributes.get("image")) || event.actor().id().startsWith(v))
                    && Filters.any(filters, "volume", v -> event.type().equals("volume") && event.actor().id().equals(v))
                    && Filters.any(filters, "label", v -> Filters.label(v, attributes));
        };
    }

    /** Unix seconds with an optional fraction (what the CLI sends for --since/--until), as nanoseconds. */
    private static Long nanos(String value, String name) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        try {
            return new BigDecimal(value).movePointRight(9).longValueExact();
        } catch (NumberFormatException | ArithmeticException e) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "invalid " + name + ": \"" + value
                    + "\" is not a Unix timestamp");
        }
    }

    private static long nanosNow() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }
}
