package io.berth.runtime.oci;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tells when conmon writes a container's exit file into the exit directory, through inotify (a
 * {@link WatchService}), so waiting for an exit costs no polling.
 */
final class ExitWatcher implements Closeable {

    private final Path exitDir;
    private final WatchService watcher;
    private final Map<String, CompletableFuture<Void>> waiting = new ConcurrentHashMap<>();
    private final Thread thread;

    ExitWatcher(Path exitDir) throws IOException {
        this.exitDir = exitDir;
        Files.createDirectories(exitDir);
        watcher = FileSystems.getDefault().newWatchService();
        exitDir.register(watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
        thread = new Thread(this::watch, "berth-exit-watcher " + exitDir);
        thread.setDaemon(true);
        thread.start();
    }

    /** Completes once the exit file of {@code id} exists and has content (at once if it has). */
    CompletableFuture<Void> exited(String id) {
        CompletableFuture<Void> future = waiting.computeIfAbsent(id, key -> new CompletableFuture<>());
        check(id); // after registering: a file written in between is not missed
        return future;
    }

    /** Stops waiting for {@code id} (its container was deleted); its future never completes. */
    void forget(String id) {
        waiting.remove(id);
    }

    private void check(String id) {
        Path file = exitDir.resolve(id);
        try {
            if (Files.isRegularFile(file) && Files.size(file) > 0) {
                CompletableFuture<Void> future = waiting.remove(id);
                if (future != null) {
                    future.complete(null);
                }
            }
        } catch (IOException e) {
            // removed meanwhile: the container was deleted
        }
    }

    private void watch() {
        try {
            while (true) {
                WatchKey key = watcher.take();
                List<WatchEvent<?>> events = key.pollEvents();
                for (WatchEvent<?> event : events) {
                    if (event.kind() == StandardWatchEventKinds.OVERFLOW) {
                        List.copyOf(waiting.keySet()).forEach(this::check);
                    } else if (event.context() instanceof Path name) {
                        check(name.toString());
                    }
                }
                key.reset();
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closed
        }
    }

    @Override
    public void close() throws IOException {
        watcher.close();
        thread.interrupt();
    }
}
