package io.berth.spi.shell;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/** One operator's shell session. */
@ProviderType
public interface ShellSession extends AutoCloseable {

    /**
     * Runs one command line, writing what it prints to {@code out} and its
     * errors to {@code err} as they happen.
     *
     * @return the exit status: 0 when the command succeeded, non-zero when it failed
     */
    default int execute(String commandLine, OutputStream out, OutputStream err) {
        return execute(commandLine, InputStream.nullInputStream(), out, err, null);
    }

    /**
     * Runs one command line with the caller's stdin: what the command reads from {@code in}, and
     * {@code terminal} when the caller's stdin is a terminal ({@code null} when it is not). The session does not
     * read {@code in} unless the command does, and does not close it.
     *
     * @return the exit status: 0 when the command succeeded, non-zero when it failed
     */
    int execute(String commandLine, InputStream in, OutputStream out, OutputStream err, CallerTerminal terminal);

    /** Candidates for completing the word that ends at {@code cursor} in {@code line}. */
    List<String> complete(String line, int cursor);

    /** Ends the session. */
    @Override
    void close();
}
