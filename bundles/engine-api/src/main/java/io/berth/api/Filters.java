package io.berth.api;

import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** The {@code filters} parameter's checks that several endpoints share, as dockerd applies them. */
final class Filters {

    private Filters() {
    }

    /** Whether one of the values given for {@code kind} passes {@code test}; true when the kind is not given. */
    static boolean any(Map<String, List<String>> filters, String kind, Predicate<String> test) {
        List<String> values = filters.get(kind);
        return values == null || values.stream().anyMatch(test);
    }

    /** A {@code label} filter: {@code KEY} (the label is there) or {@code KEY=VALUE} (with that value). */
    static boolean label(String filter, Map<String, String> labels) {
        int equals = filter.indexOf('=');
        return equals < 0 ? labels.containsKey(filter)
                : filter.substring(equals + 1).equals(labels.get(filter.substring(0, equals)));
    }
}
