package io.berth.runtime.oci;

import io.berth.spi.runtime.ExecProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What both kinds of exec share: the runtime's {@code exec} runs in the foreground as this JVM's child, exits with
 * the process's exit code, and writes the process's host pid to a file.
 */
abstract class RuntimeProcess implements ExecProcess {

    final Process runtime;
    private final Path pidFile;

    /** {@code pidFile} and {@code processFile} (the process.json) are removed when the runtime ends. */
    RuntimeProcess(Process runtime, Path pidFile, Path processFile) {
        this.runtime = runtime;
        this.pidFile = pidFile;
        runtime.onExit().thenRun(() -> {
            try {
                Files.deleteIfExists(pidFile);
                Files.deleteIfExists(processFile);
            } catch (IOException e) {
                // the container's directory is already gone
            }
        });
    }

    static Path pidFileFor(Path processFile) {
        return processFile.resolveSibling(processFile.getFileName() + ".pid");
    }

    /**
     * The pid the runtime wrote, waiting for it while the runtime runs (it writes the file once the process
     * exists, milliseconds after it starts); 0 if the runtime ended without writing it.
     */
    @Override
    public long pid() {
        try {
            while (runtime.isAlive() && !Files.exists(pidFile)) {
                Thread.sleep(1);
            }
            return Long.parseLong(Files.readString(pidFile).trim());
        } catch (IOException | NumberFormatException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    @Override
    public int waitFor() throws InterruptedException {
        return runtime.waitFor();
    }

    @Override
    public int exitCode() {
        return runtime.isAlive() ? -1 : runtime.exitValue();
    }
}
