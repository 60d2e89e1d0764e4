package io.berth.containers;

import io.berth.spi.events.Event;
import io.berth.spi.events.Events;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The engine's events: the last {@code capacity} kept in memory for {@code --since}, and every subscriber fed
 * in order by its own single thread, so a slow subscriber delays only itself, never a publisher.
 */
final class EventLog implements Events, AutoCloseable {

    private static final System.Logger LOG = System.getLogger("berth.containers");

    private final int capacity;
    private final Deque<Event> kept = new ArrayDeque<>();
    private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();

    EventLog(int capacity) {
        this.capacity = capacity;
    }

    @Override
    public void publish(Event event) {
        synchronized (kept) {
            kept.addLast(event);
            if (kept.size() > capacity) {
                kept.removeFirst();
            }
            // handed over while holding the lock, so no subscriber sees a later event before an earlier one
            for (Subscription subscription : subscriptions) {
                subscription.offer(event);
            }
        }
    }

    @Override
    public AutoCloseable subscribe(long sinceNanos, Predicate<Event> filter, Consumer<Event> subscriber) {
        Subscription subscription = new Subscription(filter, subscriber);
        synchronized (kept) {
            if (sinceNanos > 0) {
                for (Event event : new ArrayList<>(kept)) {
                    if (event.timeNano() >= sinceNanos) {
                        subscription.offer(event);
                    }
                }
            }
            subscriptions.add(subscription);
        }
        return () -> {
            subscriptions.remove(subscription);
            subscription.executor.shutdownNow();
        };
    }

    /** Ends every subscription. */
    @Override
    public void close() {
        for (Subscription subscription : subscriptions) {
            subscription.executor.shutdownNow();
        }
        subscriptions.clear();
    }

    private static final class Subscription {
        private final Predicate<Event> filter;
        private final Consumer<Event> subscriber;
        private final ExecutorService executor = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "berth-events-subscriber");
            thread.setDaemon(true);
            return thread;
        });

        Subscription(Predicate<Event> filter, Consumer<Event> subscriber) {
            this.filter = filter;
            this.subscriber = subscriber;
        }

        void offer(Event event) {
            if (executor.isShutdown()) {
                return;
            }
            try {
                executor.execute(() -> {
                    try {
                        if (filter == null || filter.test(event)) {
                            subscriber.accept(event);
                        }
                    } catch (RuntimeException e) {
                        LOG.log(System.Logger.Level.WARNING, "event subscriber failed: " + e, e);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException closedMeanwhile) {
                // unsubscribed while this event was on its way
            }
        }
    }
}
