package io.berth.kernel.shellclient;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.jline.reader.Candidate;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/**
 * {@code berth-shell}: runs Gogo commands on a running daemon through its
 * API socket. With {@code -c} it runs one command and exits with its status;
 * without, it is an interactive console with history and tab completion
 * (completion asks the daemon, so it knows every command registered there).
 */
public final class ShellClient {

    static final String DEFAULT_HOST = "unix:///run/berth/berth.sock";

    private static final String HELP = """
            Usage:  berth-shell [OPTIONS]

            Run shell commands (Gogo, scope berth and the framework's own) on a running berth daemon.

            Options:
              -H, --host string      Daemon socket to connect to (default $BERTH_HOST or "unix:///run/berth/berth.sock")
              -c, --command string   Run this one command and exit with its status
                  --help             Print usage
            """;

    private ShellClient() {
    }

    public static int run(String[] args) {
        String host = System.getenv().getOrDefault("BERTH_HOST", DEFAULT_HOST);
        String command = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "-H", "--host" -> {
                    if (++i >= args.length) return usage("flag needs an argument: -H");
                    host = args[i];
                }
                case "-c", "--command" -> {
                    if (++i >= args.length) return usage("flag needs an argument: -c");
                    command = args[i];
                }
                case "--help", "-h" -> {
                    System.out.print(HELP);
                    return 0;
                }
                default -> {
                    return usage("unknown argument: " + args[i]);
                }
            }
        }
        if (!host.startsWith("unix://") || host.length() <= "unix://".length()) {
            return usage("invalid host " + host + ": expected unix:///path/to/socket");
        }
        Path socket = Path.of(host.substring("unix://".length()));
        try (ShellConnection connection = new ShellConnection(socket)) {
            if (command == null) {
                return interactive(connection);
            }
            CallerInput input = CallerInput.ofProcess();
            try {
                return connection.execute(null, command, System.out, System.err, input);
            } finally {
                input.close();
            }
        } catch (IOException e) {
            System.err.println("berth-shell: " + e.getMessage());
            return 1;
        }
    }

    private static int usage(String problem) {
        System.err.println("berth-shell: " + problem + "\nSee 'berth-shell --help'.");
        return 2;
    }

    private static int interactive(ShellConnection connection) throws IOException {
        String session = connection.openSession();
        try (Terminal terminal = TerminalBuilder.builder().system(true).build()) {
            LineReader reader = LineReaderBuilder.builder()
                    .terminal(terminal)
                    .appName("berth-shell")
                    .variable(LineReader.HISTORY_FILE, Path.of(System.getProperty("user.home"), ".berth_shell_history"))
                    .completer((lineReader, line, candidates) -> {
                        try {
                            List<String> words = connection.complete(session, line.line(), line.cursor());
                            words.forEach(word -> candidates.add(new Candidate(word)));
                        } catch (IOException e) {
                            // no completion when the daemon does not answer; the next command reports it
                        }
                    })
                    .build();
            PrintStream out = new PrintStream(terminal.output(), true);
            CallerInput input = CallerInput.ofConsole(terminal);
            terminal.writer().println("berth shell. Type 'help' for commands, 'exit' to leave.");
            terminal.writer().flush();
            while (true) {
                String line;
                try {
                    line = reader.readLine("berth> ");
                } catch (UserInterruptException e) {
                    continue;
                } catch (EndOfFileException e) {
                    break;
                }
                String trimmed = line.trim();
                if (trimmed.isEmpty()) {
                    continue;
                }
                if (trimmed.equals("exit") || trimmed.equals("quit") || trimmed.equals("logout")) {
                    break;
                }
                try {
                    connection.execute(session, line, out, out, input);
                } catch (IOException e) {
                    terminal.writer().println("berth-shell: " + e.getMessage());
                    terminal.writer().flush();
                }
            }
        } finally {
            try {
                connection.closeSession(session);
            } catch (IOException ignored) {
                // the daemon expires idle sessions
            }
        }
        return 0;
    }
}
