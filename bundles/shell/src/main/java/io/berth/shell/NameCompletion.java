package io.berth.shell;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Tab completion of the names berth commands take: containers, images, networks and volumes, by command, as the
 * docker CLI's shell completion offers them. Options (a word starting with {@code -}) are not completed.
 */
final class NameCompletion {

    /** What a command's arguments name. */
    enum Kind { CONTAINER, IMAGE, NETWORK, VOLUME }

    /** The names of each kind that exist now (a kind whose service is away has none). */
    interface Names {
        List<String> of(Kind kind);
    }

    /** The commands (without the scope) whose arguments are names of one kind. */
    private static final Map<String, Kind> COMMANDS = Map.ofEntries(
            Map.entry("start", Kind.CONTAINER), Map.entry("stop", Kind.CONTAINER),
            Map.entry("restart", Kind.CONTAINER), Map.entry("kill", Kind.CONTAINER),
            Map.entry("rm", Kind.CONTAINER), Map.entry("pause", Kind.CONTAINER),
            Map.entry("unpause", Kind.CONTAINER), Map.entry("wait", Kind.CONTAINER),
            Map.entry("rename", Kind.CONTAINER), Map.entry("update", Kind.CONTAINER),
            Map.entry("logs", Kind.CONTAINER), Map.entry("inspect", Kind.CONTAINER),
            Map.entry("port", Kind.CONTAINER), Map.entry("top", Kind.CONTAINER),
            Map.entry("stats", Kind.CONTAINER), Map.entry("diff", Kind.CONTAINER),
            Map.entry("commit", Kind.CONTAINER), Map.entry("export", Kind.CONTAINER),
            Map.entry("exec", Kind.CONTAINER), Map.entry("attach", Kind.CONTAINER),
            Map.entry("run", Kind.IMAGE), Map.entry("create", Kind.IMAGE), Map.entry("rmi", Kind.IMAGE),
            Map.entry("tag", Kind.IMAGE), Map.entry("history", Kind.IMAGE), Map.entry("push", Kind.IMAGE),
            Map.entry("image-inspect", Kind.IMAGE),
            Map.entry("network-inspect", Kind.NETWORK), Map.entry("network-rm", Kind.NETWORK),
            Map.entry("network-connect", Kind.NETWORK), Map.entry("network-disconnect", Kind.NETWORK),
            Map.entry("volume-inspect", Kind.VOLUME), Map.entry("volume-rm", Kind.VOLUME));

    private NameCompletion() {
    }

    /** The commands (without the scope) whose arguments are completed with names. */
    static java.util.Set<String> commands() {
        return COMMANDS.keySet();
    }

    /**
     * The names that may stand where the cursor is: {@code head} is the line up to the cursor, after the command
     * word; candidates start with the word being typed. Empty when the command takes no names or an option is
     * being typed.
     */
    static List<String> candidates(String head, Names names) {
        String[] words = head.stripLeading().split("\\s+", -1);
        if (words.length < 2) {
            return List.of(); // still typing the command
        }
        String command = words[0].substring(words[0].indexOf(':') + 1);
        Kind kind = COMMANDS.get(command);
        String typed = words[words.length - 1];
        if (kind == null || typed.startsWith("-")) {
            return List.of();
        }
        TreeSet<String> matching = new TreeSet<>();
        for (String name : names.of(kind)) {
            if (name.startsWith(typed)) {
                matching.add(name);
            }
        }
        return List.copyOf(matching);
    }
}
