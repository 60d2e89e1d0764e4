package io.berth.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** {@code <exec-root>/berthd.pid}, like dockerd's pidfile; removed at a clean exit. */
final class PidFile implements AutoCloseable {

    private final Path path;

    private PidFile(Path path) {
        this.path = path;
    }

    static PidFile write(Path path) throws IOException {
        Path temp = path.resolveSibling(path.getFileName() + ".tmp");
        Files.writeString(temp, ProcessHandle.current().pid() + "\n");
        Files.move(temp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return new PidFile(path);
    }

    @Override
    public void close() throws IOException {
        Files.deleteIfExists(path);
    }
}
