package io.berth.containers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.spi.runtime.Attachment;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The detach-key filter over an attachment whose stdin is a byte buffer. */
class DetachingAttachmentTest {

    /** An attachment that records what is written to its stdin and whether it was closed. */
    static final class Recording implements Attachment {
        final ByteArrayOutputStream typed = new ByteArrayOutputStream();
        final AtomicBoolean closed = new AtomicBoolean();

        @Override
        public Output read() {
            return closed.get() ? null : new Output(STDOUT, new byte[] {'x'});
        }

        @Override
        public OutputStream stdin() {
            return typed;
        }

        @Override
        public void resize(int rows, int columns) {
        }

        @Override
        public void close() {
            closed.set(true);
        }
    }

    @Test
    void theSequenceDetachesAndIsSwallowed() throws IOException {
        Recording inner = new Recording();
        AtomicInteger detaches = new AtomicInteger();
        Attachment attachment = DetachKeys.watch(inner, DetachKeys.parse(null), detaches::incrementAndGet);
        OutputStream stdin = attachment.stdin();
        stdin.write(new byte[] {'l', 's', '\n', 16, 17});
        assertArrayEquals(new byte[] {'l', 's', '\n'}, inner.typed.toByteArray());
        assertTrue(inner.closed.get());
        assertEquals(1, detaches.get());
        assertNull(attachment.read());
        assertThrows(IOException.class, () -> stdin.write('a'));
    }

    @Test
    void aBrokenOffPrefixIsPassedOnAsTyped() throws IOException {
        Recording inner = new Recording();
        Attachment attachment = DetachKeys.watch(inner, DetachKeys.parse("ctrl-p,ctrl-q"), () -> { });
        OutputStream stdin = attachment.stdin();
        stdin.write(new byte[] {16, 'a', 16, 16, 'b'});
        assertArrayEquals(new byte[] {16, 'a', 16, 16, 'b'}, inner.typed.toByteArray());
        assertEquals(false, inner.closed.get());
        stdin.write(new byte[] {16, 17});
        assertTrue(inner.closed.get());
    }
}
