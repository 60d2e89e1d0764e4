package io.berth.spi.containers;

import java.time.Instant;

/**
 * What {@code docker logs} asks for.
 *
 * @param stdout include stdout
 * @param stderr include stderr
 * @param follow keep reading new output until the container stops or the reader is closed
 * @param tail   only the last this many lines, -1 for all
 * @param since  only entries at or after this time, or null
 * @param until  only entries before this time, or null
 */
public record LogOptions(boolean stdout, boolean stderr, boolean follow, int tail, Instant since, Instant until) {

    /** Everything written so far, both streams. */
    public static final LogOptions ALL = new LogOptions(true, true, false, -1, null, null);
}
