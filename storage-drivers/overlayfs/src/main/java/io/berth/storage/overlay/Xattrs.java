package io.berth.storage.overlay;

import io.berth.storage.support.Commands;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
                current = Path.of(unescape(line.substring("# file: ".length())));
            } else if (current != null && line.equals(OPAQUE + "=\"y\"")) {
                opaque.add(current);
            }
        }
        return opaque;
    }

    /** getfattr writes unprintable bytes and backslashes in names as {@code \ooo}. */
    static String unescape(String text) {
        if (text.indexOf('\\') < 0) {
            return text;
        }
        byte[] raw = text.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length);
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == '\\' && i + 3 < raw.length && isOctal(raw[i + 1]) && isOctal(raw[i + 2]) && isOctal(raw[i + 3])) {
                out.write(((raw[i + 1] - '0') << 6) | ((raw[i + 2] - '0') << 3) | (raw[i + 3] - '0'));
                i += 3;
            } else {
                out.write(raw[i]);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static boolean isOctal(byte b) {
        return b >= '0' && b <= '7';
    }
}
