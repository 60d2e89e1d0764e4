package io.berth.spi.storage;

import io.berth.spi.driver.Driver;
import java.io.IOException;
import java.nio.file.Path;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Layers as a parent chain, modelled on moby's graphdriver.
 *
 * <p>Two stories use it. <em>Importing an image layer</em>: {@link #create} a
 * read-only layer on its parent, {@link #get} it, write the layer's content
 * into the returned directory, {@link #put} it. <em>Running a container</em>:
 * {@link #createReadWrite} a layer on the image's top layer, {@link #get} it
 * as the container's root filesystem for as long as the container runs,
 * {@link #put} and {@link #remove} it afterwards.
 *
 * <p>Mounts outlive the driver instance: a driver that is stopped leaves its
 * mounts in place (containers keep running on them), and a new instance of it
 * re-adopts them, with their reference counts, from its directory.
 *
 * <p>Each driver owns {@code <data-root>/<name>/} and nothing else on disk. Ids
 * are opaque to the driver (the layer store uses chain ids for image layers).
 * Every method is safe to call from several threads.
 */
@ConsumerType
public interface StorageDriver extends Driver {

    /** {@link Driver#TYPE} value for storage drivers. */
    String TYPE_STORAGE = "storage";

    /**
     * Creates a read-only layer.
     *
     * @param id     the new layer's id; must not exist yet
     * @param parent the parent layer's id, or {@code null} for a base layer
     * @throws LayerNotFoundException if {@code parent} does not exist
     */
    void create(String id, String parent) throws IOException;

    /** Creates a writable layer (a container's root filesystem) on {@code parent}, which may be {@code null}. */
    void createReadWrite(String id, String parent) throws IOException;

    /**
     * Mounts the layer with everything below it and returns the directory that
     * shows the result. Calls are counted: each must be matched by one {@link #put}.
     */
    Path get(String id) throws IOException;

    /** Releases one {@link #get}; the last release unmounts. */
    void put(String id) throws IOException;

    /** Whether a layer with this id exists. */
    boolean exists(String id);

    /**
     * Removes a layer. A layer that is still mounted, or that another layer
     * has as its parent, is refused.
     */
    void remove(String id) throws IOException;

    /** Disk space the layer's own content takes, in bytes (its parents not included). */
    long usage(String id) throws IOException;

    /** The id of the layer's parent, or {@code null} for a base layer. */
    String parent(String id) throws IOException;

    /** What this driver can do beyond the basics. */
    java.util.Set<StorageCapability> capabilities();
}
