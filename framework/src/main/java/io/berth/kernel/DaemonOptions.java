package io.berth.kernel;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * berthd's command line, parsed. Flags that have a daemon.json key are kept
 * under that key in {@link #flagSettings()}, so they can be merged with the
 * file the way dockerd does (a key set in both places is an error).
 *
 * @param configFile   the daemon.json to read
 * @param explicitConfigFile whether {@code --config-file} was given (then the file must exist)
 * @param flagSettings daemon.json keys set on the command line
 * @param shell        whether to open an interactive console on this terminal
 * @param help         whether only the help text was asked for
 */
public record DaemonOptions(Path configFile, boolean explicitConfigFile, Map<String, Object> flagSettings,
                            boolean shell, boolean help) {

    public static final String HELP = """
            Usage:  berthd [OPTIONS]

            A Docker-compatible container engine on an OSGi microkernel.

            Options:
                  --config-file string   Daemon configuration file (default "<berth home>/etc/daemon.json")
                  --data-root string     Root directory of persistent state (default "/var/lib/berth")
                  --exec-root string     Root directory for execution state files (default "/run/berth")
              -H, --host list            Daemon socket(s) to listen on (default "unix:///run/berth/berth.sock")
              -l, --log-level string     Set the logging level ("debug"|"info"|"warn"|"error"|"fatal") (default "info")
                  --tls                  Use TLS on tcp:// addresses; implied by --tlsverify
                  --tlscacert string     Trust certs signed only by this CA (default "~/.docker/ca.pem")
                  --tlscert string       Path to TLS certificate file (default "~/.docker/cert.pem")
                  --tlskey string        Path to TLS key file (default "~/.docker/key.pem")
                  --tlsverify            Use TLS and verify the remote (clients need a certificate the CA signed)
                  --shell                Also open an interactive Gogo console on this terminal
                  --help                 Print usage
            """;

    /** Parses the arguments; {@code home} is the distribution directory (for the default config file). */
    public static DaemonOptions parse(String[] args, Path home) throws UsageException {
        Path configFile = home.resolve("etc").resolve("daemon.json");
        boolean explicit = false;
        boolean shell = false;
        boolean help = false;
        Map<String, Object> flags = new LinkedHashMap<>();
        List<String> hosts = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String name = arg;
            String inlineValue = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                inlineValue = arg.substring(eq + 1);
            }
            switch (name) {
                case "--help", "-h" -> help = true;
                case "--shell" -> shell = true;
                case "--config-file" -> {
                    configFile = Path.of(value(args, i, name, inlineValue));
                    explicit = true;
                    if (inlineValue == null) i++;
                }
                case "--data-root" -> {
                    flags.put("data-root", value(args, i, name, inlineValue));
                    if (inlineValue == null) i++;
                }
                case "--exec-root" -> {
                    flags.put("exec-root", value(args, i, name, inlineValue));
                    if (inlineValue == null) i++;
                }
                case "-H", "--host" -> {
                    hosts.add(value(args, i, name, inlineValue));
                    if (inlineValue == null) i++;
                }
                case "--tls", "--tlsverify" -> {
                    String value = inlineValue == null ? "true" : inlineValue;
                    if (!value.equals("true") && !value.equals("false")) {
                        throw new UsageException("invalid boolean value \"" + value + "\" for " + name
                                + "\nSee 'berthd --help'.");
                    }
                    flags.put(name.substring(2), Boolean.parseBoolean(value));
                }
                case "--tlscacert", "--tlscert", "--tlskey" -> {
                    flags.put(name.substring(2), value(args, i, name, inlineValue));
                    if (inlineValue == null) i++;
                }
                case "-l", "--log-level" -> {
                    flags.put("log-level", value(args, i, name, inlineValue));
                    if (inlineValue == null) i++;
                }
                default -> throw new UsageException("unknown flag: " + arg + "\nSee 'berthd --help'.");
            }
        }
        if (!hosts.isEmpty()) {
            flags.put("hosts", List.copyOf(hosts));
        }
        return new DaemonOptions(configFile, explicit, flags, shell, help);
    }

    private static String value(String[] args, int i, String flag, String inlineValue) throws UsageException {
        if (inlineValue != null) {
            return inlineValue;
        }
        if (i + 1 >= args.length || args[i + 1].isEmpty()) {
            throw new UsageException("flag needs an argument: " + flag + "\nSee 'berthd --help'.");
        }
        return args[i + 1];
    }
}
