package io.berth.spi.volumes;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Named and anonymous volumes ({@code docker volume ...}), local driver. Unknown volumes are
 * {@link java.util.NoSuchElementException}s; removing one a container uses is an {@link IllegalStateException}
 * ("volume is in use - [ids]"); bad names an {@link IllegalArgumentException}.
 */
@ProviderType
public interface VolumeService {

    /** Creates it, or returns the existing one of that name (as Docker does); null name: an anonymous one. */
    Volume create(String name, Map<String, String> labels, Map<String, String> options) throws IOException;

    /** Every volume. */
    List<Volume> list() throws IOException;

    /** The volume. */
    Volume inspect(String name) throws IOException;

    /** Removes it and its content; {@code force} only ignores that it does not exist. */
    void remove(String name, boolean force) throws IOException;

    /** Removes the volumes no container uses (anonymous ones only unless {@code all}); returns their names. */
    List<String> prune(boolean all) throws IOException;
}
