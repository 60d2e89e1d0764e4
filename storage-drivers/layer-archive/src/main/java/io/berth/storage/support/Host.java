package io.berth.storage.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Facts about the host process that decide what a driver can promise, e.g.
 * only root can keep {@code trusted.*} xattrs and make device nodes.
 */
public final class Host {

    private Host() {
    }

    /** Whether this process runs as uid 0 (read from {@code /proc/self}); {@code false} when that cannot be told. */
    public static boolean isRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}
