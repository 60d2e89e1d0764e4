package io.berth.images;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code changes} of {@code docker import} (and later {@code commit}): Dockerfile instructions applied to an
 * image's container config, with Docker's rules. Docker joins the changes with newlines and parses them as a
 * Dockerfile, so a change may span lines with {@code \} and {@code #} starts a comment; only the instructions
 * Docker allows for a commit are accepted (its {@code validCommitCommands}). The config uses Docker's keys
 * ({@code Cmd}, {@code Env}, {@code ExposedPorts}, ...) and holds only what the changes set.
 *
 * <p>Bad input is an {@link IllegalArgumentException} saying what is wrong, before anything is stored.
 */
final class ImageChanges {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Docker's validCommitCommands. */
    static final Set<String> ALLOWED = Set.of("cmd", "entrypoint", "healthcheck", "env", "expose", "label", "onbuild",
            "stopsignal", "user", "volume", "workdir");
    private static final Pattern PORT = Pattern.compile("(\\d+)(?:-(\\d+))?(?:/(\\w+))?");
    private static final Pattern SIGNAL = Pattern.compile("(?:SIG)?[A-Z][A-Z0-9+-]*|\\d+");
    private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|ms|s|m|h)");

    private final ObjectNode config;
    private boolean cmdSet;

    private ImageChanges(ObjectNode config) {
        this.config = config;
    }

    /** Applies the changes, in order, to {@code config} (changed in place) and returns it. */
    static ObjectNode apply(ObjectNode config, List<String> changes) {
        ImageChanges applier = new ImageChanges(config);
        for (String line : logicalLines(String.join("\n", changes))) {
            applier.instruction(line);
        }
        return config;
    }

    /** Lines with continuations joined, without blank lines and comments. */
    private static List<String> logicalLines(String text) {
        List<String> lines = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String raw : text.split("\r?\n", -1)) {
            String line = current.isEmpty() ? raw.stripLeading() : raw;
            if (current.isEmpty() && (line.isEmpty() || line.startsWith("#"))) {
                continue;
            }
            String trimmed = line.stripTrailing();
            if (trimmed.endsWith("\\")) {
                current.append(trimmed, 0, trimmed.length() - 1);
                continue;
            }
            current.append(line);
            lines.add(current.toString().strip());
            current.setLength(0);
        }
        if (!current.isEmpty()) {
            lines.add(current.toString().strip());
        }
        return lines;
    }

    private void instruction(String line) {
        String[] split = line.split("\\s+", 2);
        String keyword = split[0].toLowerCase(Locale.ROOT);
        String rest = split.length > 1 ? split[1].strip() : "";
        if (!ALLOWED.contains(keyword)) {
            throw new IllegalArgumentException(keyword + " is not a valid change command");
        }
        switch (keyword) {
            case "cmd" -> {
                config.set("Cmd", command(rest));
                cmdSet = true;
            }
            case "entrypoint" -> {
                config.set("Entrypoint", command(rest));
                if (!cmdSet) {
                    config.remove("Cmd"); // as Docker: an ENTRYPOINT drops a CMD that came from elsewhere
                }
            }
            case "env" -> {
                ArrayNode env = config.has("Env") ? (ArrayNode) config.get("Env") : config.putArray("Env");
                for (Map.Entry<String, String> pair : nameValues("ENV", rest).entrySet()) {
                    setEnv(env, pair.getKey(), pair.getValue());
                }
            }
            case "label" -> {
                ObjectNode labels = config.has("Labels") ? (ObjectNode) config.get("Labels") : config.putObject("Labels");
                nameValues("LABEL", rest).forEach(labels::put);
            }
            case "expose" -> {
                List<String> ports = words(rest);
                if (ports.isEmpty()) {
                    throw new IllegalArgumentException("EXPOSE requires at least one argument");
                }
                ObjectNode exposed = config.has("ExposedPorts") ? (ObjectNode) config.get("ExposedPorts")
                        : config.putObject("ExposedPorts");
                for (String port : ports) {
                    expose(exposed, port);
                }
            }
            case "volume" -> {
                List<String> paths = jsonArray(rest);
                if (paths == null) {
                    paths = words(rest);
                }
                if (paths.isEmpty()) {
                    throw new IllegalArgumentException("VOLUME requires at least one argument");
                }
                ObjectNode volumes = config.has("Volumes") ? (ObjectNode) config.get("Volumes") : config.putObject("Volumes");
                for (String path : paths) {
                    if (path.isBlank()) {
                        throw new IllegalArgumentException("VOLUME specified can not be an empty string");
                    }
                    volumes.putObject(path.strip());
                }
            }
            case "user" -> config.put("User", single("USER", rest));
            case "workdir" -> config.put("WorkingDir", workdir(config.path("WorkingDir").asText(""),
                    single("WORKDIR", rest)));
            case "stopsignal" -> {
                String signal = single("STOPSIGNAL", rest);
                if (!SIGNAL.matcher(signal).matches()) {
                    throw new IllegalArgumentException("STOPSIGNAL: invalid signal: " + signal);
                }
                config.put("StopSignal", signal);
            }
            case "onbuild" -> {
                String trigger = rest.split("\\s+", 2)[0].toLowerCase(Locale.ROOT);
                if (trigger.isEmpty()) {
                    throw new IllegalArgumentException("ONBUILD requires at least one argument");
                }
                if (trigger.equals("onbuild")) {
                    throw new IllegalArgumentException("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
                }
                if (trigger.equals("from") || trigger.equals("maintainer")) {
                    throw new IllegalArgumentException(trigger.toUpperCase(Locale.ROOT)
                            + " isn't allowed as an ONBUILD trigger");
                }
                (config.has("OnBuild") ? (ArrayNode) config.get("OnBuild") : config.putArray("OnBuild")).add(rest);
            }
            case "healthcheck" -> config.set("Healthcheck", healthcheck(rest));
            default -> throw new IllegalStateException(keyword);
        }
    }

    // ---------------------------------------------------------------- instruction arguments

    /** Exec form (a JSON array of strings) as it is, shell form as {@code /bin/sh -c "..."}. */
    private static ArrayNode command(String rest) {
        List<String> exec = jsonArray(rest);
        ArrayNode node = JSON.createArrayNode();
        if (exec != null) {
            exec.forEach(node::add);
        } else if (!rest.isEmpty()) {
            node.add("/bin/sh").add("-c").add(rest);
        }
        return node;
    }

    /** The strings of a JSON array, or null when the text is not one (then it is the shell form). */
    private static List<String> jsonArray(String text) {
        if (!text.startsWith("[")) {
            return null;
        }
        try {
            JsonNode node = JSON.readTree(text);
            if (node == null || !node.isArray()) {
                return null;
            }
            List<String> values = new ArrayList<>();
            for (JsonNode item : node) {
                if (!item.isTextual()) {
                    return null;
                }
                values.add(item.asText());
            }
            return values;
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    /**
     * ENV and LABEL: {@code key=value ...} (quotes and escapes as a shell has them, variables from earlier ENVs
     * substituted) or the legacy {@code key value with spaces}.
     */
    private Map<String, String> nameValues(String instruction, String rest) {
        Map<String, String> pairs = new LinkedHashMap<>();
        List<String> raw = rawWords(rest);
        if (raw.isEmpty()) {
            throw new IllegalArgumentException(instruction + " requires at least one argument");
        }
        if (!raw.get(0).contains("=")) {
            String key = processed(raw.get(0));
            String value = rest.substring(rest.indexOf(raw.get(0)) + raw.get(0).length()).strip();
            if (value.isEmpty()) {
                throw new IllegalArgumentException(instruction + " must have two arguments");
            }
            pairs.put(key, processed(value));
            return pairs;
        }
        for (String word : raw) {
            int eq = word.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("Syntax error - can't find = in \"" + word
                        + "\". Must be of the form: name=value");
            }
            String key = processed(word.substring(0, eq));
            if (key.isEmpty()) {
                throw new IllegalArgumentException(instruction + " names can not be blank");
            }
            pairs.put(key, processed(word.substring(eq + 1)));
        }
        return pairs;
    }

    private static void setEnv(ArrayNode env, String key, String value) {
        for (int i = 0; i < env.size(); i++) {
            if (env.get(i).asText().startsWith(key + "=")) {
                env.set(i, key + "=" + value);
                return;
            }
        }
        env.add(key + "=" + value);
    }

    private static void expose(ObjectNode exposed, String spec) {
        Matcher m = PORT.matcher(spec);
        if (!m.matches()) {
            throw new IllegalArgumentException("Invalid containerPort: " + spec);
        }
        String proto = m.group(3) == null ? "tcp" : m.group(3).toLowerCase(Locale.ROOT);
        if (!Set.of("tcp", "udp", "sctp").contains(proto)) {
            throw new IllegalArgumentException("Invalid proto: " + m.group(3));
        }
        int first = port(m.group(1), spec);
        int last = m.group(2) == null ? first : port(m.group(2), spec);
        if (last < first) {
            throw new IllegalArgumentException("Invalid range specified for port: " + spec);
        }
        for (int port = first; port <= last; port++) {
            exposed.putObject(port + "/" + proto);
        }
    }

    private static int port(String digits, String spec) {
        try {
            int port = Integer.parseInt(digits);
            if (port >= 1 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // out of range: below
        }
        throw new IllegalArgumentException("Invalid containerPort: " + spec);
    }

    private static String workdir(String current, String requested) {
        String path = requested.startsWith("/") ? requested : (current.isEmpty() ? "/" : current) + "/" + requested;
        List<String> parts = new ArrayList<>();
        for (String part : path.split("/")) {
            if (part.equals("..")) {
                if (!parts.isEmpty()) {
                    parts.remove(parts.size() - 1);
                }
            } else if (!part.isEmpty() && !part.equals(".")) {
                parts.add(part);
            }
        }
        return "/" + String.join("/", parts);
    }

    /** HEALTHCHECK NONE, or HEALTHCHECK [--interval=D --timeout=D --start-period=D --start-interval=D --retries=N] CMD ... */
    private static ObjectNode healthcheck(String rest) {
        ObjectNode check = JSON.createObjectNode();
        if (rest.equalsIgnoreCase("none")) {
            check.putArray("Test").add("NONE");
            return check;
        }
        String remaining = rest;
        while (remaining.startsWith("--")) {
            String[] split = remaining.split("\\s+", 2);
            String flag = split[0];
            remaining = split.length > 1 ? split[1].strip() : "";
            int eq = flag.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("HEALTHCHECK: flag " + flag + " needs a value (" + flag + "=...)");
            }
            String name = flag.substring(2, eq);
            String value = flag.substring(eq + 1);
            switch (name) {
                case "interval" -> check.put("Interval", duration(flag, value));
                case "timeout" -> check.put("Timeout", duration(flag, value));
                case "start-period" -> check.put("StartPeriod", duration(flag, value));
                case "start-interval" -> check.put("StartInterval", duration(flag, value));
                case "retries" -> {
                    try {
                        int retries = Integer.parseInt(value);
                        if (retries < 0) {
                            throw new NumberFormatException();
                        }
                        check.put("Retries", retries);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("HEALTHCHECK: --retries must be a number >= 0, not " + value);
                    }
                }
                default -> throw new IllegalArgumentException("HEALTHCHECK: unknown flag: " + name);
            }
        }
        String[] split = remaining.split("\\s+", 2);
        if (!split[0].equalsIgnoreCase("cmd")) {
            throw new IllegalArgumentException("Unknown type \"" + split[0].toUpperCase(Locale.ROOT)
                    + "\" in HEALTHCHECK (try CMD)");
        }
        String command = split.length > 1 ? split[1].strip() : "";
        if (command.isEmpty()) {
            throw new IllegalArgumentException("Missing command after HEALTHCHECK CMD");
        }
        List<String> exec = jsonArray(command);
        ArrayNode test = check.putArray("Test");
        if (exec != null) {
            test.add("CMD");
            exec.forEach(test::add);
        } else {
            test.add("CMD-SHELL").add(command);
        }
        return check;
    }

    /** A Go duration ({@code 30s}, {@code 1m30s}, {@code 1.5h}) in nanoseconds, as Docker stores it. */
    static long duration(String flag, String text) {
        Matcher m = DURATION_PART.matcher(text);
        double nanos = 0;
        int end = 0;
        while (end < text.length() && m.region(end, text.length()).lookingAt()) {
            nanos += Double.parseDouble(m.group(1)) * switch (m.group(2)) {
                case "ns" -> 1L;
                case "us", "µs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                default -> 3_600_000_000_000L;
            };
            end = m.end();
        }
        if (text.isEmpty() || end != text.length()) {
            throw new IllegalArgumentException("HEALTHCHECK: invalid duration for " + flag + ": " + text);
        }
        return (long) nanos;
    }

    // ---------------------------------------------------------------- words, quotes and variables

    /** One argument with quotes removed and variables substituted; it must not be empty. */
    private String single(String instruction, String rest) {
        String value = processed(rest);
        if (value.isEmpty()) {
            throw new IllegalArgumentException(instruction + " requires exactly one argument");
        }
        return value;
    }

    /** The words of the text, quotes removed and variables substituted. */
    private List<String> words(String text) {
        List<String> words = new ArrayList<>();
        for (String raw : rawWords(text)) {
            words.add(processed(raw));
        }
        return words;
    }

    /** Splits at whitespace outside quotes; quotes and escapes stay in the words. */
    private static List<String> rawWords(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        char quote = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && quote != '\'' && i + 1 < text.length()) {
                word.append(c).append(text.charAt(++i));
            } else if (quote != 0) {
                word.append(c);
                if (c == quote) {
                    quote = 0;
                }
            } else if (c == '"' || c == '\'') {
                word.append(c);
                quote = c;
            } else if (Character.isWhitespace(c)) {
                if (!word.isEmpty()) {
                    words.add(word.toString());
                    word.setLength(0);
                }
            } else {
                word.append(c);
            }
        }
        if (quote != 0) {
            throw new IllegalArgumentException("unexpected end of statement while looking for matching " + quote
                    + " in: " + text);
        }
        if (!word.isEmpty()) {
            words.add(word.toString());
        }
        return words;
    }

    /** Removes quotes and escapes and substitutes {@code $VAR}, {@code ${VAR}}, {@code ${VAR:-x}}, {@code ${VAR:+x}}. */
    private String processed(String text) {
        StringBuilder out = new StringBuilder();
        char quote = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quote == '\'') {
                if (c == '\'') {
                    quote = 0;
                } else {
                    out.append(c);
                }
            } else if (c == '\\' && i + 1 < text.length()) {
                out.append(text.charAt(++i));
            } else if (c == '"') {
                quote = quote == '"' ? 0 : '"';
            } else if (c == '\'' && quote == 0) {
                quote = '\'';
            } else if (c == '$' && i + 1 < text.length()) {
                i = substitute(text, i, out);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** Appends the value of the variable at {@code text[dollar]}; returns the index of its last character. */
    private int substitute(String text, int dollar, StringBuilder out) {
        if (text.charAt(dollar + 1) == '{') {
            int close = text.indexOf('}', dollar);
            if (close < 0) {
                throw new IllegalArgumentException("missing '}' in: " + text);
            }
            String inner = text.substring(dollar + 2, close);
            int colon = inner.indexOf(':');
            String name = colon < 0 ? inner : inner.substring(0, colon);
            String value = env(name);
            if (colon < 0) {
                out.append(value == null ? "" : value);
            } else if (inner.startsWith(":-", colon)) {
                out.append(value == null || value.isEmpty() ? processed(inner.substring(colon + 2)) : value);
            } else if (inner.startsWith(":+", colon)) {
                out.append(value == null || value.isEmpty() ? "" : processed(inner.substring(colon + 2)));
            } else {
                throw new IllegalArgumentException("unsupported modifier in ${" + inner + "}");
            }
            return close;
        }
        int end = dollar + 1;
        while (end < text.length() && (Character.isLetterOrDigit(text.charAt(end)) || text.charAt(end) == '_')) {
            end++;
        }
        if (end == dollar + 1) {
            out.append('$');
            return dollar;
        }
        String value = env(text.substring(dollar + 1, end));
        out.append(value == null ? "" : value);
        return end - 1;
    }

    private String env(String name) {
        for (JsonNode entry : config.path("Env")) {
            String text = entry.asText();
            if (text.startsWith(name + "=")) {
                return text.substring(name.length() + 1);
            }
        }
        return null;
    }
}
