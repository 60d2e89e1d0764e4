package io.berth.api;

import io.berth.spi.shell.CallerTerminal;
import io.berth.spi.shell.TerminalSize;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The terminal of a remote {@code berth-shell} client whose stdin is one. Raw mode is asked of the client with a
 * message on the command's output ({@code {"raw":true}}); the client enters it, then reports its window size
 * ({@code POST /berth/v1/shell/resize/ID}) and reports it again on every SIGWINCH.
 */
final class RemoteTerminal implements CallerTerminal {

    /** How long {@link #size()} waits for a client that has not yet reported its size. */
    private static final long SIZE_WAIT_SECONDS = 10;
    private static final TerminalSize FALLBACK = new TerminalSize(24, 80);

    /** Sends a control message to the client, on the command's output. */
    interface Messages {
        void raw(boolean raw) throws IOException;
    }

    private final Messages client;
    private final CompletableFuture<TerminalSize> firstSize = new CompletableFuture<>();
    private final List<Consumer<TerminalSize>> listeners = new CopyOnWriteArrayList<>();
    private volatile TerminalSize size;

    RemoteTerminal(Messages client) {
        this.client = client;
    }

    @Override
    public TerminalSize size() throws IOException {
        TerminalSize known = size;
        if (known != null) {
            return known;
        }
        try {
            return firstSize.get(SIZE_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the terminal's size");
        } catch (ExecutionException | TimeoutException e) {
            return FALLBACK; // an old or slow client: a usual size rather than none
        }
    }

    @Override
    public void raw(boolean raw) throws IOException {
        client.raw(raw);
    }

    @Override
    public AutoCloseable onResize(Consumer<TerminalSize> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /** The client reported a new window size. */
    void resized(TerminalSize newSize) {
        size = newSize;
        firstSize.complete(newSize);
        listeners.forEach(listener -> listener.accept(newSize));
    }
}
