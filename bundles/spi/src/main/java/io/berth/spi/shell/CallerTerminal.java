package io.berth.spi.shell;

import java.io.IOException;
import java.util.function.Consumer;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * The terminal a shell command's caller types on, when the caller's stdin is one: the console of
 * {@code berthd --shell}, or the terminal of a remote {@code berth-shell} that the front door relays. Commands
 * such as {@code berth:run -it} put it into raw mode, so every key goes to the container, and pass its window
 * size on.
 */
@ConsumerType
public interface CallerTerminal {

    /** The window size now; may wait briefly for a remote caller to report it. */
    TerminalSize size() throws IOException;

    /** Puts the terminal into raw mode ({@code true}) or back into the mode it had ({@code false}). */
    void raw(boolean raw) throws IOException;

    /** Calls {@code listener} with the new size each time the window changes, until the handle is closed. */
    AutoCloseable onResize(Consumer<TerminalSize> listener);
}
