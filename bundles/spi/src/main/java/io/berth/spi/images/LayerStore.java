package io.berth.spi.images;

import io.berth.spi.idmap.IdMap;
import io.berth.spi.storage.Change;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Image layers keyed by chain id, each recorded with the storage driver that
 * holds it. Layers are reference counted: {@link #register} takes a
 * reference, {@link #release} drops one, and a layer goes away only when
 * nothing references it and no other layer is built on it.
 */
@ProviderType
public interface LayerStore {

    /**
     * Stores a layer from its uncompressed tar on top of {@code parentChainId}
     * (or as a base layer when {@code null}), with the storage driver in use
     * for new layers. Registering a layer that exists takes another reference
     * and does not unpack it again.
     */
    Layer register(InputStream tar, String parentChainId) throws IOException;

    /**
     * Starts storing a chain of new layers on {@code parentChainId} (null: from the base) whose tars become
     * readable in any order, as a pull downloads several at once. The chain's layers are created at once, parent
     * first; {@link LayerChain#unpack} fills any of them as soon as its tar is there, and {@link LayerChain#commit}
     * records them in order. Only a storage driver whose layers do not read their parents while being filled
     * ({@link io.berth.spi.storage.StorageCapability#INDEPENDENT_DIFFS}) allows that; with any other this returns
     * {@code null} and the caller {@link #register}s one layer after the other.
     *
     * @param diffIds the new layers' diff ids, bottom first
     * @since 1.5
     */
    default LayerChain beginChain(String parentChainId, java.util.List<String> diffIds) throws IOException {
        return null;
    }

    /**
     * A chain of layers being stored out of order (see {@link #beginChain}). Until {@link #close} it holds a
     * reference on the layer it is built on. A crash leaves nothing behind: the store removes unrecorded layers
     * and drops that reference when it starts.
     *
     * @since 1.5
     */
    interface LayerChain extends AutoCloseable {

        /**
         * Unpacks the tar of the chain's layer {@code index} (0 is the bottom one); may run on several threads at
         * once, for different layers.
         *
         * @throws IOException if the tar cannot be unpacked or is not the diff id it should be; the layer can
         *                     still be stored with {@link #register}, after {@link #close}
         */
        void unpack(int index, InputStream tar) throws IOException;

        /**
         * Records layer {@code index}, unpacked, with one reference, as {@link #register} would; its parent must be
         * the chain's base or the chain's layer below, recorded. {@code null} when it cannot be: it was not
         * unpacked, its chain id has been recorded meanwhile, or the layer below is not this chain's copy
         * (the caller registers it, and the ones above, with {@link #register}).
         */
        Layer commit(int index) throws IOException;

        /** Removes the layers not committed and drops the reference on the base layer. */
        @Override
        void close() throws IOException;
    }

    /** The layer with this chain id, or {@code null}. */
    Layer get(String chainId) throws IOException;

    /** Every layer, base layers first. */
    List<Layer> layers() throws IOException;

    /** Drops one reference; the last one removes the layer unless another layer is built on it. */
    void release(String chainId) throws IOException;

    /** The storage driver new layers go to. */
    String currentDriver();

    /**
     * Sends new layers (and new containers) to another driver from now on;
     * existing layers stay where they are.
     *
     * @throws IllegalArgumentException if no active driver has that name
     */
    void useDriver(String name);

    /**
     * Re-creates every layer that is not in driver {@code name} there, from the
     * layer's content in the driver that holds it, and records the new place.
     * The old copies are removed once nothing uses them.
     *
     * @return how many layers were moved
     */
    int migrate(String name) throws IOException;

    /**
     * Creates a container's read-write layer on top of the layer {@code parentChainId} (null: an empty root), in
     * the driver that holds the parent (new layers' driver for none). It holds a reference to the parent until
     * {@link #removeReadWrite}. A container id that has a read-write layer already is refused.
     *
     * @return the driver that holds it
     * @since 1.2
     */
    default String createReadWrite(String containerId, String parentChainId) throws IOException {
        return createReadWrite(containerId, parentChainId, null);
    }

    /**
     * {@link #createReadWrite(String, String)} for a container in a user namespace: its root filesystem shows the
     * parent's files owned by the host ids {@code idMap} gives their owners, so the container sees them as the
     * image has them. The shifted copy of the parent is made once per parent and map and shared by every
     * container that needs it. {@link #diff} gives the container's changes with their owners shifted back.
     *
     * @param idMap null for no user namespace
     * @since 1.4
     */
    String createReadWrite(String containerId, String parentChainId, IdMap idMap) throws IOException;

    /**
     * Mounts a container's read-write layer (counted: every mount needs an {@link #unmountReadWrite}) and returns
     * the directory of its merged root filesystem.
     *
     * @since 1.2
     */
    Path mountReadWrite(String containerId) throws IOException;

    /**
     * The parent chain id of every container's read-write layer, once per container (each holds one reference on
     * it); containers on an empty root are not listed.
     *
     * @since 1.4
     */
    List<String> readWriteParents() throws IOException;

    /** Drops one mount of a container's read-write layer. @since 1.2 */
    void unmountReadWrite(String containerId) throws IOException;

    /** Removes a container's read-write layer (unmounted first) and releases its parent. @since 1.2 */
    void removeReadWrite(String containerId) throws IOException;

    /** What a container changed: its read-write layer against its parent. @since 1.2 */
    List<Change> changes(String containerId) throws IOException;

    /** A container's read-write layer as an OCI layer tar (whiteouts for deletions). @since 1.2 */
    InputStream diff(String containerId) throws IOException;
}
