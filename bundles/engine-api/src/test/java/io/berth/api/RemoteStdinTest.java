package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RemoteStdinTest {

    private final AtomicInteger asked = new AtomicInteger();
    private final RemoteStdin stdin = new RemoteStdin(asked::incrementAndGet);

    @Test
    void theClientIsAskedOnceAtTheFirstReadAndItsBytesThenItsEndArrive() throws Exception {
        assertEquals(0, asked.get(), "nothing is asked of a command that does not read");
        stdin.feed("ab".getBytes(StandardCharsets.UTF_8));
        stdin.feed("c".getBytes(StandardCharsets.UTF_8));
        stdin.endOfInput();
        assertArrayEquals("abc".getBytes(StandardCharsets.UTF_8), stdin.readAllBytes());
        assertEquals(-1, stdin.read(), "EOF stays EOF");
        assertEquals(1, asked.get());
    }

    @Test
    void closingEndsAWaitingReaderAndRefusesMoreInput() throws Exception {
        CompletableFuture<Integer> reader = CompletableFuture.supplyAsync(() -> {
            try {
                return stdin.read();
            } catch (java.io.IOException e) {
                return -2;
            }
        });
        stdin.close();
        assertEquals(-1, reader.get(30, TimeUnit.SECONDS));
        assertFalse(stdin.feed(new byte[] {1}), "a client still sending after the command ended is told to stop");
    }

    @Test
    void anInterruptedReaderStops() throws Exception {
        Thread.currentThread().interrupt();
        try {
            assertThrows(InterruptedIOException.class, () -> stdin.read());
            assertTrue(Thread.currentThread().isInterrupted());
        } finally {
            Thread.interrupted();
        }
    }
}
