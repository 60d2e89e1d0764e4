package io.berth.spi.images;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Images and their names: what {@code docker images}, {@code tag},
 * {@code rmi}, {@code save}, {@code load} and {@code image prune} work on.
 * Images are identified by the digest of their config; names are normalised
 * {@link Reference}s. Layers live in the {@link LayerStore}, blobs in the
 * {@link ContentStore}.
 */
@ProviderType
public interface ImageStore {

    /** Every image (tagged or not), newest first. */
    List<Image> list() throws IOException;

    /**
     * The image a name refers to: a reference ({@code busybox}, {@code busybox:1},
     * {@code repo@sha256:...}), a full id or an unambiguous id prefix; {@code null} if none.
     */
    Image find(String nameOrId) throws IOException;

    /** The image's config, as stored (JSON). */
    byte[] config(String id) throws IOException;

    /** Points {@code target} (a reference) at the image {@code source} names; moves it if it pointed elsewhere. */
    void tag(String source, String target) throws IOException;

    /**
     * Docker's {@code rmi}: removing a name only untags while other names
     * remain; the last name (or an id) deletes the image and releases its
     * layers. An id with several names is refused unless {@code force}.
     *
     * @return what happened, as Docker reports it: {@code Untagged: ...} and {@code Deleted: ...} lines
     */
    List<String> remove(String nameOrId, boolean force) throws IOException;

    /**
     * Loads a {@code docker save} archive (manifest.json, repositories,
     * configs, layer tars) or an OCI image layout (oci-layout, index.json,
     * blobs/). Everything is verified; a malformed or hostile archive is
     * refused with the reason and leaves the store as it was.
     *
     * @return the loaded images with the names they got
     */
    List<Image> load(InputStream archive) throws IOException;

    /** Writes the named images as a {@code docker save} archive (docker-archive format). */
    void save(List<String> namesOrIds, OutputStream out) throws IOException;

    /** Removes dangling images (no names); returns the deleted ids. */
    List<String> prune() throws IOException;

    /**
     * {@code docker pull}: fetches the image through the registry client,
     * unpacks its layers (uncompressed, gzip or zstd) into the layer store,
     * verifying each against the config's diff ids, and names it.
     *
     * @param reference a reference as the CLI takes it ({@code busybox}, {@code localhost:5000/app:1})
     * @param platform  {@code os/arch[/variant]}, or null for the host's
     * @return the pulled image
     */
    Image pull(String reference, String platform, RegistryClient.Credentials credentials,
               java.util.function.Consumer<RegistryClient.Progress> progress) throws IOException;

    /**
     * {@code docker push}: pushes the image a name refers to (config, layers
     * compressed with gzip, manifest) through the registry client.
     *
     * @return the digest of the pushed manifest
     */
    String push(String name, RegistryClient.Credentials credentials,
                java.util.function.Consumer<RegistryClient.Progress> progress) throws IOException;
}
