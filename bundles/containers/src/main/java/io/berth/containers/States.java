package io.berth.containers;

import io.berth.spi.containers.Container.State;
import java.time.Instant;

/** The {@code State} values of each status, as Docker fills them in. */
final class States {

    private States() {
    }

    static State created() {
        return new State("created", false, false, false, false, false, 0, 0, "", Timestamps.NEVER,
                Timestamps.NEVER);
    }

    static State running(State before, long pid, Instant startedAt) {
        return new State("running", true, false, false, false, false, pid, 0, "", Timestamps.format(startedAt),
                before.finishedAt());
    }

    static State paused(State before, boolean paused) {
        return new State(paused ? "paused" : "running", true, paused, false, before.oomKilled(), false,
                before.pid(), before.exitCode(), before.error(), before.startedAt(), before.finishedAt());
    }

    static State exited(State before, int exitCode, boolean oomKilled, Instant finishedAt, String error) {
        return new State("exited", false, false, false, oomKilled, false, 0, exitCode, error, before.startedAt(),
                Timestamps.format(finishedAt));
    }

    static State restarting(State before) {
        return new State("restarting", true, false, true, before.oomKilled(), false, 0, before.exitCode(),
                before.error(), before.startedAt(), before.finishedAt());
    }

    static State withPid(State before, long pid) {
        return new State(before.status(), before.running(), before.paused(), before.restarting(),
                before.oomKilled(), before.dead(), pid, before.exitCode(), before.error(), before.startedAt(),
                before.finishedAt());
    }

    static State failedToStart(State before, int exitCode, String error) {
        return new State(before.status().equals("created") ? "created" : "exited", false, false, false, false,
                false, 0, exitCode, error, before.startedAt(), before.finishedAt());
    }
}
