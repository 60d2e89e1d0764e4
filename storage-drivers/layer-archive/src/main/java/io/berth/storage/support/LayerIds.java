package io.berth.storage.support;

import io.berth.spi.storage.LayerNotFoundException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * The one rule for layer ids, which drivers use as directory and file names:
 * one safe path segment (no {@code /}, no {@code ..}, no leading dot, so it
 * can never clash with a driver's own {@code .staging-} or {@code .tmp-} names),
 * at most 128 characters.
 */
public final class LayerIds {

    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

    private LayerIds() {
    }

    /** Whether {@code id} is a valid layer id; {@code null} is not. */
    public static boolean isValid(String id) {
        return id != null && VALID.matcher(id).matches();
    }

    /**
     * Returns {@code id} if it is valid.
     *
     * @throws IllegalArgumentException "invalid layer id: ..." otherwise
     */
    public static String requireValid(String id) {
        if (!isValid(id)) {
            throw new IllegalArgumentException("invalid layer id: " + id);
        }
        return id;
    }

    /**
     * Returns {@code dir}, the directory of layer {@code id}, if it exists as
     * a directory itself (a symbolic link to one does not count).
     *
     * @throws LayerNotFoundException otherwise
     */
    public static Path requireExisting(Path dir, String id) throws LayerNotFoundException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new LayerNotFoundException(id);
        }
        return dir;
    }
}
