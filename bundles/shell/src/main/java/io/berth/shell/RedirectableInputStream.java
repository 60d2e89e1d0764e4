package io.berth.shell;

import java.io.IOException;
import java.io.InputStream;

/** An input stream whose source changes per command; with no source it is at its end. */
final class RedirectableInputStream extends InputStream {

    private volatile InputStream source;

    void redirectTo(InputStream source) {
        this.source = source;
    }

    @Override
    public int read() throws IOException {
        InputStream current = source;
        return current == null ? -1 : current.read();
    }

    @Override
    public int read(byte[] bytes, int offset, int length) throws IOException {
        InputStream current = source;
        return current == null ? -1 : current.read(bytes, offset, length);
    }

    @Override
    public int available() throws IOException {
        InputStream current = source;
        return current == null ? 0 : current.available();
    }
}
