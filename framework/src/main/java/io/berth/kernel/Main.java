package io.berth.kernel;

import io.berth.kernel.shellclient.ShellClient;
import java.util.Arrays;

/**
 * The one entry point. {@code bin/berthd} runs {@code Main daemon ...},
 * {@code bin/berth-shell} runs {@code Main shell ...}.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        String mode = args.length == 0 ? "daemon" : args[0];
        String[] rest = args.length == 0 ? args : Arrays.copyOfRange(args, 1, args.length);
        int status;
        switch (mode) {
            case "daemon" -> status = Daemon.run(rest);
            case "shell" -> status = ShellClient.run(rest);
            default -> {
                System.err.println("usage: Main daemon|shell [options]");
                status = 2;
            }
        }
        System.exit(status);
    }
}
