package io.berth.spi.containers;

import java.time.Duration;
import java.time.Instant;

/** Durations and times as the docker CLI words them in tables (go-units HumanDuration). */
public final class HumanTime {

    /** Docker's "never happened" time. */
    public static final String ZERO = "0001-01-01T00:00:00Z";

    private HumanTime() {
    }

    public static String duration(Duration d) {
        long seconds = d.getSeconds();
        if (seconds < 1) {
            return "Less than a second";
        }
        if (seconds == 1) {
            return "1 second";
        }
        if (seconds < 60) {
            return seconds + " seconds";
        }
        long minutes = d.toMinutes();
        if (minutes == 1) {
            return "About a minute";
        }
        if (minutes < 60) {
            return minutes + " minutes";
        }
        long hours = Math.round(d.toMillis() / 3_600_000.0);
        if (hours == 1) {
            return "About an hour";
        }
        if (hours < 48) {
            return hours + " hours";
        }
        if (hours < 24 * 7 * 2) {
            return hours / 24 + " days";
        }
        if (hours < 24 * 30 * 2) {
            return hours / 24 / 7 + " weeks";
        }
        if (hours < 24 * 365 * 2) {
            return hours / 24 / 30 + " months";
        }
        return hours / 24 / 365 + " years";
    }

    /** "5 minutes ago" for an RFC 3339 time; empty for Docker's zero time. */
    public static String ago(String rfc3339, Instant now) {
        if (rfc3339 == null || rfc3339.isEmpty() || rfc3339.equals(ZERO)) {
            return "";
        }
        return duration(Duration.between(Instant.parse(rfc3339), now)) + " ago";
    }

    /** Time since an RFC 3339 time, in words. */
    public static String since(String rfc3339, Instant now) {
        return duration(Duration.between(Instant.parse(rfc3339), now));
    }
}
