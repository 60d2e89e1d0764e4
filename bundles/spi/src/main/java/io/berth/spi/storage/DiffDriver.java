package io.berth.spi.storage;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * The optional ability of a storage driver to compute and apply layer diffs
 * natively (moby's DiffDriver), e.g. overlay2 reading its upper directory
 * instead of comparing two trees. A driver without it gets the same
 * operations from the naive diff adapter, which compares the layer with its
 * parent file by file.
 *
 * <p>Diffs are uncompressed OCI layer tars: whiteouts as {@code .wh.NAME},
 * opaque directories as {@code .wh..wh..opq}.
 */
@ConsumerType
public interface DiffDriver extends StorageDriver {

    /**
     * The changes of layer {@code id} relative to {@code parent} (which may be
     * {@code null} for a base layer) as an OCI layer tar. The caller closes
     * the stream.
     */
    InputStream diff(String id, String parent) throws IOException;

    /**
     * Extracts an OCI layer tar into layer {@code id}, whose parent is
     * {@code parent}. Hostile input (paths escaping the layer, links out of
     * it) is refused with an exception and writes nothing outside the layer.
     *
     * @return the size of the applied content in bytes
     */
    long applyDiff(String id, String parent, InputStream tar) throws IOException;

    /** What changed in layer {@code id} relative to {@code parent}, sorted by path. */
    List<Change> changes(String id, String parent) throws IOException;
}
