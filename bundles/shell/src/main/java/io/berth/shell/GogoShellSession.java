package io.berth.shell;

import io.berth.spi.shell.CallerTerminal;
import io.berth.spi.shell.ShellSession;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;

/**
 * One Gogo session whose stdin and output are, for each command, the streams that command was given, and whose
 * caller's terminal (if any) is the session variable {@link Caller#TERMINAL} while it runs. Commands in one
 * session run one at a time, as in a terminal.
 */
final class GogoShellSession implements ShellSession {

    private final RedirectableInputStream in = new RedirectableInputStream();
    private final RedirectableOutputStream out = new RedirectableOutputStream();
    private final RedirectableOutputStream err = new RedirectableOutputStream();
    private final PrintStream console = new PrintStream(out, true, StandardCharsets.UTF_8);
    private final PrintStream errors = new PrintStream(err, true, StandardCharsets.UTF_8);
    private final CommandSession session;
    private final NameCompletion.Names names;

    /** @param names the containers, images, networks and volumes that completion offers */
    GogoShellSession(CommandProcessor processor, NameCompletion.Names names) {
        this.session = processor.createSession(in, console, errors);
        this.names = names;
    }

    @Override
    public synchronized int execute(String commandLine, InputStream stdin, OutputStream stdout, OutputStream stderr,
                                    CallerTerminal terminal) {
        in.redirectTo(stdin);
        out.redirectTo(stdout);
        err.redirectTo(stderr);
        session.put(Caller.TERMINAL, terminal);
        try {
            Object result = session.execute(commandLine);
            if (result != null) {
                // What an interactive Gogo console shows for a command's return value.
                console.println(session.format(result, Converter.INSPECT));
            }
            return 0;
        } catch (ExitStatus status) {
            return status.code();
        } catch (Exception e) {
            errors.println(describe(e));
            return 1;
        } finally {
            console.flush();
            errors.flush();
            session.put(Caller.TERMINAL, null);
            in.redirectTo(null);
            out.redirectTo(null);
            err.redirectTo(null);
        }
    }

    private static String describe(Exception e) {
        String message = e.getMessage();
        if (message == null || message.isBlank()) {
            return e.getClass().getSimpleName();
        }
        // the engine's errors for bad input, unknown objects and refused requests say it all, as docker's do
        return e.getClass().getSimpleName().equals("CommandNotFoundException") || e instanceof IllegalArgumentException
                || e instanceof java.util.NoSuchElementException || e instanceof IllegalStateException
                ? message
                : e.getClass().getSimpleName() + ": " + message;
    }

    /**
     * Completes the first word with the names of the registered commands, both {@code scope:function} and the
     * bare {@code function}, and a later word with the names of what the command works on ({@link NameCompletion}).
     */
    @Override
    public synchronized List<String> complete(String line, int cursor) {
        String head = line.substring(0, Math.max(0, Math.min(cursor, line.length())));
        if (head.stripLeading().contains(" ")) {
            return NameCompletion.candidates(head, names);
        }
        String prefix = head.stripLeading();
        TreeSet<String> candidates = new TreeSet<>();
        Object commands = session.get(".commands");
        if (commands instanceof Collection<?> names) {
            for (Object name : names) {
                String scoped = name.toString();
                String bare = scoped.substring(scoped.indexOf(':') + 1);
                for (String candidate : List.of(scoped, bare)) {
                    if (candidate.startsWith(prefix)) {
                        candidates.add(candidate);
                    }
                }
            }
        }
        return new ArrayList<>(candidates);
    }

    @Override
    public void close() {
        session.close();
    }
}
