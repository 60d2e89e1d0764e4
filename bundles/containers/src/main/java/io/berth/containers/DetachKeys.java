package io.berth.containers;

import io.berth.spi.runtime.Attachment;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Locale;
import java.util.Map;

/**
 * {@code --detach-keys}: Docker's syntax (a comma-separated list of single characters and {@code ctrl-X} keys,
 * default {@code ctrl-p,ctrl-q}) and an attachment whose stdin watches for the sequence: typed in full, it is
 * swallowed and the attachment closes (the container keeps running); a partial match that breaks off is passed
 * on as typed.
 */
final class DetachKeys {

    static final String DEFAULT = "ctrl-p,ctrl-q";

    private static final Map<String, Byte> SPECIAL = Map.of(
            "ctrl-@", (byte) 0, "ctrl-[", (byte) 27, "ctrl-\\", (byte) 28, "ctrl-]", (byte) 29,
            "ctrl-^", (byte) 30, "ctrl-_", (byte) 31);

    private DetachKeys() {
    }

    /** The bytes of a key sequence; refuses an unknown key with the reason. */
    static byte[] parse(String keys) {
        String text = keys == null || keys.isEmpty() ? DEFAULT : keys;
        ByteArrayOutputStream codes = new ByteArrayOutputStream();
        for (String key : text.split(",", -1)) {
            if (key.length() == 1) {
                codes.write(key.charAt(0));
            } else if (SPECIAL.containsKey(key.toLowerCase(Locale.ROOT))) {
                codes.write(SPECIAL.get(key.toLowerCase(Locale.ROOT)));
            } else if (key.length() == 6 && key.toLowerCase(Locale.ROOT).startsWith("ctrl-")
                    && Character.isLetter(key.charAt(5)) && key.charAt(5) < 128) {
                codes.write(Character.toLowerCase(key.charAt(5)) - 'a' + 1);
            } else {
                throw new IllegalArgumentException("Invalid detach keys (" + keys + ") provided: Unknown character: '"
                        + key + "'");
            }
        }
        return codes.toByteArray();
    }

    /** The attachment, detaching when its stdin sees {@code sequence}. */
    static Attachment watch(Attachment attachment, byte[] sequence, Runnable onDetach) {
        return new Watching(attachment, sequence, onDetach);
    }

    private static final class Watching implements Attachment {
        private final Attachment delegate;
        private final byte[] sequence;
        private final Runnable onDetach;
        private volatile boolean detached;

        Watching(Attachment delegate, byte[] sequence, Runnable onDetach) {
            this.delegate = delegate;
            this.sequence = sequence;
            this.onDetach = onDetach;
        }

        @Override
        public Output read() throws IOException {
            return detached ? null : delegate.read();
        }

        @Override
        public OutputStream stdin() throws IOException {
            OutputStream target = delegate.stdin();
            return new OutputStream() {
                private int matched;

                @Override
                public synchronized void write(int b) throws IOException {
                    if (detached) {
                        throw new IOException("detached from the container");
                    }
                    if (sequence.length > 0 && (byte) b == sequence[matched]) {
                        if (++matched == sequence.length) {
                            detach();
                        }
                        return;
                    }
                    if (matched > 0) {
                        target.write(sequence, 0, matched); // not the sequence after all: pass it on
                        matched = 0;
                        if ((byte) b == sequence[0]) {
                            matched = 1;
                            return;
                        }
                    }
                    target.write(b);
                }

                @Override
                public void write(byte[] bytes, int offset, int length) throws IOException {
                    for (int i = 0; i < length; i++) {
                        write(bytes[offset + i]);
                    }
                }

                @Override
                public void flush() throws IOException {
                    if (!detached) {
                        target.flush();
                    }
                }

                @Override
                public void close() throws IOException {
                    if (!detached) {
                        target.close();
                    }
                }
            };
        }

        @Override
        public void resize(int rows, int columns) throws IOException {
            delegate.resize(rows, columns);
        }

        @Override
        public void close() throws IOException {
            detached = true;
            delegate.close();
        }

        private void detach() throws IOException {
            close();
            onDetach.run();
        }
    }
}
