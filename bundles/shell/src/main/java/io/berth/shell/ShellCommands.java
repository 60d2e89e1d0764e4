package io.berth.shell;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/**
 * Runs a picocli command object's {@code @Command} methods as Gogo commands: the arguments as Gogo split them are
 * parsed with the docker CLI's flag rules (repeatable options, {@code --flag=value}, bundled short flags, options
 * only before the first operand), and errors propagate to the shell session instead of being printed by picocli.
 */
final class ShellCommands {

    private ShellCommands() {
    }

    /** Registers every subcommand of {@code commands} under its own name in scope berth. */
    static void register(DashedCommands registry, Object commands) {
        // The names straight from the annotations: building picocli's model of every command at start-up costs
        // the daemon's start time; it is built when a command runs.
        for (java.lang.reflect.Method method : commands.getClass().getDeclaredMethods()) {
            CommandLine.Command command = method.getAnnotation(CommandLine.Command.class);
            if (command == null) {
                continue;
            }
            String name = command.name();
            registry.register(name, arguments -> {
                run(commands, name, arguments);
                return null;
            });
        }
    }

    /** {@code --help} only: {@code -h} is {@code --hostname} for {@code run}, as in the docker CLI. */
    static final class Help {
        @CommandLine.Option(names = "--help", usageHelp = true, description = "print usage")
        boolean requested;
    }

    /** The commands' parser, each subcommand with {@code --help} and options only before its first operand. */
    static CommandLine parser(Object commands) {
        CommandLine root = new CommandLine(commands);
        for (CommandLine command : root.getSubcommands().values()) {
            command.addMixin("help", new Help());
            command.setStopAtPositional(true);
        }
        return root;
    }

    static void run(Object commands, String name, List<Object> arguments) throws Exception {
        CommandLine root = parser(commands);
        Exception[] failure = new Exception[1];
        root.setParameterExceptionHandler((e, args) -> {
            failure[0] = new IllegalArgumentException(e.getMessage() + "\nSee 'berth:" + name + " --help'.");
            return 2;
        });
        root.setExecutionExceptionHandler((e, commandLine, parsed) -> {
            failure[0] = e;
            return 1;
        });
        root.setOut(new PrintWriter(System.out, true));
        root.setErr(new PrintWriter(System.err, true));
        List<String> args = new ArrayList<>();
        args.add(name);
        arguments.forEach(a -> args.add(String.valueOf(a)));
        root.execute(args.toArray(String[]::new));
        if (failure[0] != null) {
            throw failure[0];
        }
    }
}
