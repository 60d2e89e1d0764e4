package io.berth.containers;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** Times as Docker writes them: Go's RFC 3339 with nanoseconds, trailing zeros dropped, always UTC. */
final class Timestamps {

    /** What Docker shows for a time that never happened (Go's zero time). */
    static final String NEVER = "0001-01-01T00:00:00Z";

    private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss")
            .withZone(ZoneOffset.UTC);

    private Timestamps() {
    }

    /** {@code 2026-11-22T11:29:00.4215776Z}; {@link #NEVER} for null. */
    static String format(Instant time) {
        if (time == null) {
            return NEVER;
        }
        StringBuilder text = new StringBuilder(SECONDS.format(time));
        if (time.getNano() != 0) {
            String fraction = String.format("%09d", time.getNano()).replaceFirst("0+$", "");
            text.append('.').append(fraction);
        }
        return text.append('Z').toString();
    }

    /** The instant of a time written by {@link #format}; null for {@link #NEVER} or null. */
    static Instant parse(String text) {
        if (text == null || text.isEmpty() || text.equals(NEVER)) {
            return null;
        }
        return Instant.parse(text);
    }
}
