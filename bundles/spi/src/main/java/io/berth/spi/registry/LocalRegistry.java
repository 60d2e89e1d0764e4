package io.berth.spi.registry;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The registry server this daemon runs (configuration PID {@link #PID}).
 * The service is registered only while the server is listening, with the
 * properties of the configuration it runs with, so whoever changed that
 * configuration can tell when it took effect.
 */
@ProviderType
public interface LocalRegistry {

    /** The ConfigAdmin PID that configures the registry server; without it, none runs. */
    String PID = "io.berth.registry";

    /** What a garbage collection removed. */
    record GarbageCollection(List<String> deletedBlobs, long freedBytes) {
    }

    /** Where clients reach it, e.g. {@code http://127.0.0.1:5000} or {@code https://...}. */
    String url();

    /** The directory it stores in. */
    Path root();

    /** True when clients must give the credentials of a user of its htpasswd file. */
    boolean requiresLogin();

    /** Deletes every blob that no manifest references; uploads in progress are spared. */
    GarbageCollection collectGarbage() throws IOException;
}
