package io.berth.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.spi.events.Event;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class EventLogTest {

    private static Event event(String action, long timeNano) {
        return new Event("container", action, new Event.Actor("id", Map.of()), "local", timeNano / 1_000_000_000L,
                timeNano);
    }

    @Test
    void keepsTheLastEventsAndReplaysThoseSinceATimeThenLiveOnesInOrder() throws Exception {
        EventLog log = new EventLog(3);
        for (int i = 1; i <= 5; i++) {
            log.publish(event("e" + i, i * 1_000_000_000L));
        }
        List<String> seen = new CopyOnWriteArrayList<>();
        CountDownLatch three = new CountDownLatch(3);
        try (AutoCloseable subscription = log.subscribe(4_000_000_000L, e -> !e.action().equals("skip"), e -> {
            seen.add(e.action());
            three.countDown();
        })) {
            log.publish(event("skip", 6_000_000_000L));
            log.publish(event("e7", 7_000_000_000L));
            assertTrue(three.await(10, TimeUnit.SECONDS));
        }
        assertEquals(List.of("e4", "e5", "e7"), seen);
        log.close();
    }

    @Test
    void aBlockedSubscriberDoesNotBlockPublishersOrOthers() throws Exception {
        EventLog log = new EventLog(10);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch fastGotAll = new CountDownLatch(100);
        try (AutoCloseable slow = log.subscribe(0, null, e -> {
            try {
                release.await();
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
        }); AutoCloseable fast = log.subscribe(0, null, e -> fastGotAll.countDown())) {
            for (int i = 0; i < 100; i++) {
                log.publish(event("e" + i, i));
            }
            assertTrue(fastGotAll.await(10, TimeUnit.SECONDS));
        } finally {
            release.countDown();
            log.close();
        }
    }
}
