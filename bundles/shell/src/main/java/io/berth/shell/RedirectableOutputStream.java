package io.berth.shell;

import java.io.IOException;
import java.io.OutputStream;

/** An output stream whose destination changes per command; output with no destination is dropped. */
final class RedirectableOutputStream extends OutputStream {

    private volatile OutputStream target;

    void redirectTo(OutputStream target) {
        this.target = target;
    }

    @Override
    public void write(int b) throws IOException {
        OutputStream current = target;
        if (current != null) {
            current.write(b);
        }
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
        OutputStream current = target;
        if (current != null) {
            current.write(bytes, offset, length);
        }
    }

    @Override
    public void flush() throws IOException {
        OutputStream current = target;
        if (current != null) {
            current.flush();
        }
    }
}
