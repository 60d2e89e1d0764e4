package io.berth.storage.archive;

import java.io.IOException;

/**
 * A layer tar that is hostile or malformed: an entry that would write outside the target
 * directory or through a symbolic link, a link out of it, a corrupt or truncated header.
 * The message names the entry and says what is wrong with it.
 */
public class LayerArchiveException extends IOException {

    private static final long serialVersionUID = 1L;

    public LayerArchiveException(String message) {
        super(message);
    }

    public LayerArchiveException(String message, Throwable cause) {
        super(message, cause);
    }
}
