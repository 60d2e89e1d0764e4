package io.berth.spi.containers;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code ps --filter} and {@code GET /containers/json?filters=}: the status, name, id, label, ancestor and exited
 * filters, ORed within a kind and ANDed across kinds, as dockerd applies them.
 */
public final class ContainerFilter {

    private static final List<String> STATUSES =
            List.of("created", "restarting", "running", "removing", "paused", "exited", "dead");

    private final Map<String, List<String>> byKind;

    private ContainerFilter(Map<String, List<String>> byKind) {
        this.byKind = byKind;
    }

    /** Filters as the API takes them: kind to values. */
    public static ContainerFilter of(Map<String, List<String>> filters) {
        List<String> pairs = new ArrayList<>();
        filters.forEach((kind, values) -> values.forEach(value -> pairs.add(kind + "=" + value)));
        return parse(pairs);
    }

    /** Filters as the command line takes them: {@code kind=value} each. */
    public static ContainerFilter parse(List<String> filters) {
        Map<String, List<String>> byKind = new java.util.TreeMap<>();
        for (String filter : filters) {
            int equals = filter.indexOf('=');
            if (equals <= 0) {
                throw new IllegalArgumentException("bad format of filter (expected name=value): " + filter);
            }
            String kind = filter.substring(0, equals);
            String value = filter.substring(equals + 1);
            switch (kind) {
                case "status" -> {
                    if (!STATUSES.contains(value)) {
                        throw new IllegalArgumentException("invalid filter 'status=" + value + "': use one of "
                                + String.join(", ", STATUSES));
                    }
                }
                case "exited" -> {
                    if (!value.matches("-?\\d+")) {
                        throw new IllegalArgumentException("invalid filter 'exited=" + value + "': not an integer");
                    }
                }
                case "name", "id", "label", "ancestor" -> { }
                default -> throw new IllegalArgumentException("invalid filter '" + kind
                        + "': the filters are status, name, id, label, ancestor and exited");
            }
            byKind.computeIfAbsent(kind, k -> new ArrayList<>()).add(value);
        }
        return new ContainerFilter(byKind);
    }

    /** Whether stopped containers must be looked at too. */
    public boolean needsAll() {
        return byKind.containsKey("exited")
                || byKind.getOrDefault("status", List.of()).stream().anyMatch(s -> !s.equals("running"));
    }

    public boolean matches(Container c) {
        return any("status", v -> v.equals(c.state().status()))
                && any("exited", v -> c.state().status().equals("exited") && c.state().exitCode() == Integer.parseInt(v))
                && any("id", v -> c.id().startsWith(v))
                && any("name", v -> Pattern.compile(v).matcher(c.shortName()).find())
                && any("ancestor", v -> v.equals(c.config().image()) || c.image().equals(v)
                        || c.image().startsWith("sha256:" + v))
                && any("label", v -> {
                    Map<String, String> labels = c.config().labels() == null ? Map.of() : c.config().labels();
                    int equals = v.indexOf('=');
                    return equals < 0 ? labels.containsKey(v) : v.substring(equals + 1).equals(labels.get(v.substring(0, equals)));
                });
    }

    private boolean any(String kind, java.util.function.Predicate<String> test) {
        List<String> values = byKind.get(kind);
        return values == null || values.stream().anyMatch(test);
    }
}
