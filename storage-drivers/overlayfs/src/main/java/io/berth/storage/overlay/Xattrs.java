package io.berth.storage.overlay;

import io.berth.storage.support.Commands;
import io.berth.storage.support.OctalEscapes;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the {@code trusted.overlay.opaque} attribute, which Java's own xattr
 * view cannot see (it only reaches the {@code user.} namespace). One
 * {@code getfattr} (Debian's {@code attr} package) process lists every opaque
 * directory of a tree.
 */
final class Xattrs {

    static final String OPAQUE = "trusted.overlay.opaque";

    private Xattrs() {
    }

    /** The directories below (and including) {@code tree} whose {@value #OPAQUE} is {@code y}. */
    static Set<Path> opaqueDirectories(Path tree) throws IOException {
        Commands.Result result = Commands.run(List.of("getfattr", "-R", "-P", "--absolute-names", "-d", "-e", "text",
                "-m", "^trusted\\.overlay\\.opaque$", "--", tree.toAbsolutePath().toString()), null,
                OverlayStorageDriver.COMMAND_TIMEOUT);
        if (result.exitCode() != 0 && result.stdout().isEmpty() && !result.stderr().isBlank()) {
            throw new IOException("cannot read " + OPAQUE + " below " + tree + ": " + result.message());
        }
        Set<Path> opaque = new HashSet<>();
        Path current = null;
        for (String line : result.stdout().split("\n")) {
            if (line.startsWith("# file: ")) {
                current = Path.of(OctalEscapes.decodeUtf8(line.substring("# file: ".length())));
            } else if (current != null && line.equals(OPAQUE + "=\"y\"")) {
                opaque.add(current);
            }
        }
        return opaque;
    }
}
