package io.berth.api;

import io.berth.spi.shell.CommandShell;
import io.berth.spi.shell.ShellSession;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The remote shell sessions of interactive {@code berth-shell} clients, by
 * id. A session unused for {@link #IDLE_LIMIT} is closed, so clients that
 * vanish without saying goodbye leave nothing behind.
 */
final class ShellSessions {

    static final Duration IDLE_LIMIT = Duration.ofHours(1);

    private record Entry(ShellSession session, long lastUsedNanos) {
    }

    private final Map<String, Entry> sessions = new ConcurrentHashMap<>();

    String open(CommandShell shell) {
        closeIdle();
        String id = UUID.randomUUID().toString();
        sessions.put(id, new Entry(shell.openSession(), System.nanoTime()));
        return id;
    }

    /** The session with this id, marked as used; {@code null} if there is none. */
    ShellSession use(String id) {
        closeIdle();
        Entry entry = sessions.computeIfPresent(id, (key, old) -> new Entry(old.session(), System.nanoTime()));
        return entry == null ? null : entry.session();
    }

    boolean close(String id) {
        Entry entry = sessions.remove(id);
        if (entry != null) {
            entry.session().close();
        }
        return entry != null;
    }

    void closeAll() {
        sessions.keySet().forEach(this::close);
    }

    private void closeIdle() {
        long now = System.nanoTime();
        sessions.forEach((id, entry) -> {
            if (now - entry.lastUsedNanos() > IDLE_LIMIT.toNanos()) {
                close(id);
            }
        });
    }
}
