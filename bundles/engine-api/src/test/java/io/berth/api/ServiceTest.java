package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** A request waits for a service that is being updated, and is told 503 for one that stays away. */
class ServiceTest {

    private final AtomicReference<String> running = new AtomicReference<>("v1");
    private final Service<String> service = new Service<>(running::get, "the thing (bundle x)", Duration.ofSeconds(2));

    @Test
    void aRequestWaitsForAServiceThatComesBack() throws Exception {
        assertEquals("v1", service.get());
        running.set(null); // its bundle is being updated
        CountDownLatch asking = new CountDownLatch(1);
        Thread update = new Thread(() -> {
            try {
                asking.await();
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
            running.set("v2");
        });
        update.start();
        asking.countDown();
        assertEquals("v2", service.get(), "the request got the new instance, not a 503");
        update.join();
    }

    @Test
    void aServiceAwayLongerThanTheGraceIs503AndWaitedForAgainOnceBack() throws Exception {
        running.set(null);
        ApiException first = assertThrows(ApiException.class, service::get);
        assertEquals(503, first.status);
        assertTrue(first.getMessage().contains("the thing (bundle x) is not running"), first.getMessage());
        assertThrows(ApiException.class, service::get, "still away");
        assertNull(service.orNull());

        running.set("v2");
        assertSame("v2", service.get());
        running.set(null);
        Thread back = new Thread(() -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
            running.set("v3");
        });
        back.start();
        assertEquals("v3", service.get(), "a new absence is waited for again");
        back.join();
    }
}
