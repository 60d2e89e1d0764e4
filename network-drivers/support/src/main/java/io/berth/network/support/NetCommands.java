package io.berth.network.support;

import io.berth.storage.support.Commands;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the host's network tools ({@code ip}, {@code nft}, {@code sysctl}) for a
 * driver, on the host or inside a network namespace, through the engine's one
 * command runner ({@link Commands}). A failure is an {@link IOException} naming
 * the command and what it printed.
 */
public final class NetCommands {

    /** Netlink changes are quick; a tool that takes this long is stuck. */
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private NetCommands() {
    }

    /** Runs {@code ip ARGS...} on the host and returns its output. */
    public static String ip(String... args) throws IOException {
        return check(prepend(List.of("ip"), args));
    }

    /**
     * Runs {@code command} inside the network namespace at {@code netns} (any
     * path to one: {@code /run/netns/NAME}, {@code /proc/PID/ns/net}), through
     * {@code nsenter}, since {@code ip -n} only knows names under {@code /run/netns}.
     */
    public static String inNamespace(Path netns, String... command) throws IOException {
        return check(prepend(List.of("nsenter", "--net=" + netns), command));
    }

    /** Runs {@code command} and returns its output; throws when it exits with another code than 0. */
    public static String check(List<String> command) throws IOException {
        return Commands.check(command, null, TIMEOUT);
    }

    /** Runs {@code command} and returns what it did, whatever its exit code. */
    public static Commands.Result run(List<String> command) throws IOException {
        return Commands.run(command, null, TIMEOUT);
    }

    private static List<String> prepend(List<String> head, String... tail) {
        List<String> command = new ArrayList<>(head);
        command.addAll(List.of(tail));
        return command;
    }
}
