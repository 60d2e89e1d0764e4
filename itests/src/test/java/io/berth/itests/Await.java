package io.berth.itests;

import java.time.Duration;
import java.util.function.Supplier;

/** Polls until a condition holds; fails with a description of the last state seen. */
final class Await {

    static final Duration LIMIT = Duration.ofSeconds(60);

    private Await() {
    }

    static <T> T until(String what, Supplier<T> probe, java.util.function.Predicate<T> done, Supplier<String> state)
            throws InterruptedException {
        long deadline = System.nanoTime() + LIMIT.toNanos();
        while (true) {
            T value = probe.get();
            if (done.test(value)) {
                return value;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("gave up after " + LIMIT.toSeconds() + " s waiting for " + what + "; state: "
                        + state.get());
            }
            Thread.sleep(50);
        }
    }
}
