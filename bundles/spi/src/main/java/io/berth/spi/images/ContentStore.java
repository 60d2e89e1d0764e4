package io.berth.spi.images;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Content-addressed blobs (manifests, configs, layer tars), by
 * {@code sha256:<64 hex>} digest. A blob is written to a temporary file,
 * verified against its digest, synced and renamed into place: a blob that can
 * be read is always whole and correct, whatever happened while writing it.
 */
@ProviderType
public interface ContentStore {

    /**
     * Stores the stream's bytes. When {@code expectedDigest} is given the
     * content must match it (and {@code expectedSize}, when not negative), or
     * nothing is stored and an exception says what differed.
     *
     * @return the blob's digest
     */
    String write(InputStream content, String expectedDigest, long expectedSize) throws IOException;

    /** Opens a stored blob; fails with {@link java.nio.file.NoSuchFileException} if there is none. */
    InputStream read(String digest) throws IOException;

    /** Whether the blob is stored. */
    boolean exists(String digest);

    /** The blob's size in bytes, or -1 if it is not stored. */
    long size(String digest) throws IOException;

    /** Removes a blob; returns whether it was there. */
    boolean delete(String digest) throws IOException;

    /** Every stored digest. */
    List<String> list() throws IOException;
}
