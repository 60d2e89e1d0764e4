package io.berth.spi.events;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Map;

/**
 * One engine event, as {@code GET /events} streams it.
 *
 * @param type     {@code container}, {@code image}, {@code volume}, {@code network}, ...
 * @param action   {@code create}, {@code start}, {@code die}, {@code destroy}, {@code pull}, ...
 * @param actor    what it happened to
 * @param scope    {@code local}
 * @param time     seconds since the epoch
 * @param timeNano nanoseconds since the epoch
 */
public record Event(@JsonProperty("Type") String type,
                    @JsonProperty("Action") String action,
                    @JsonProperty("Actor") Actor actor,
                    @JsonProperty("scope") String scope,
                    @JsonProperty("time") long time,
                    @JsonProperty("timeNano") long timeNano) {

    /** The object of an event: its id and attributes ({@code name}, {@code image}, {@code exitCode}, ...). */
    public record Actor(@JsonProperty("ID") String id, @JsonProperty("Attributes") Map<String, String> attributes) {
    }

    /** An event that happens now. */
    public static Event now(String type, String action, String id, Map<String, String> attributes) {
        java.time.Instant now = java.time.Instant.now();
        long nanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        return new Event(type, action, new Actor(id, Map.copyOf(attributes)), "local", nanos / 1_000_000_000L, nanos);
    }
}
