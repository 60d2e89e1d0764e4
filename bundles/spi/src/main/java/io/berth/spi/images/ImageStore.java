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
     * layers. An id with several names is refused unless {@code force}. An image a container uses
     * ({@link ImageUsers}) is refused as Docker refuses it: its last name without {@code force} ("conflict: unable
     * to remove repository reference ... (must force) - container ... is using its referenced image ..."), by id
     * while a container runs even with {@code force} ("... (cannot be forced) - image is being used by running
     * container ..."), by id with a stopped container unless {@code force}. Refusals are
     * {@link IllegalStateException}s starting with "conflict:".
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

    /** Removes dangling images (no names) that no container uses; returns the deleted ids. */
    List<String> prune() throws IOException;

    /**
     * {@code docker image prune}: removes the dangling images (no names), or with {@code all} every image no
     * container uses (its names first), as Docker does.
     *
     * @since 1.1
     */
    ImagePruneReport prune(boolean all) throws IOException;

    /**
     * {@code docker import}: a rootfs tar (plain, gzip, bzip2, xz or zstd) becomes a one-layer image.
     *
     * @param rootfs    the tar, read to its end; the caller closes it
     * @param reference the name to give it ({@code app}, {@code app:1}), or null for none
     * @param message   the commit message (the config's and its history's comment); null or empty gives
     *                  Docker's "Imported from -"
     * @param changes   Dockerfile instructions applied to its config: CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK,
     *                  LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR; a bad one is an
     *                  {@link IllegalArgumentException} and nothing is read or stored
     * @return the new image
     * @throws IOException when the input is not a tar (nothing is stored)
     * @since 1.1
     */
    Image importImage(InputStream rootfs, String reference, String message, List<String> changes) throws IOException;

    /**
     * {@code docker history}: the config's history, newest first, with each layer's size.
     *
     * @since 1.1
     */
    List<ImageHistory> history(String nameOrId) throws IOException;

    /**
     * {@code docker image inspect}: the JSON document Docker's Engine API gives for {@code /images/{name}/json}
     * (Id, RepoTags, RepoDigests, Parent, Comment, Created, DockerVersion, Author, Config, Architecture, Variant,
     * Os, Size, GraphDriver, RootFS, Metadata), UTF-8.
     *
     * @since 1.1
     */
    byte[] inspect(String nameOrId) throws IOException;

    /**
     * The images' part of {@code docker system df}: sizes with shared and unique parts.
     *
     * @since 1.1
     */
    ImageDiskUsage diskUsage() throws IOException;

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

    /**
     * {@code docker commit}: a new image made of the image {@code parentId}'s layers plus one more from
     * {@code layer}, with {@code config} (the container's effective configuration) as its {@code config} after the
     * request's changes, the container's id, and one more history entry.
     *
     * @param parentId    the container's image ({@code sha256:...}), or null for a container without one
     * @param layer       the container's changes as an uncompressed OCI layer tar, read to its end
     * @param config      the configuration the image will have before the request's changes
     * @param request     name, comment, author and changes; a bad change is an {@link IllegalArgumentException}
     *                    and nothing is stored
     * @param containerId the container's id, recorded in the config as Docker does
     * @param createdBy   the history entry's {@code created_by}: the container's command
     * @since 1.3
     */
    Image commit(String parentId, InputStream layer, io.berth.spi.containers.ContainerConfig config,
                 io.berth.spi.containers.CommitRequest request, String containerId, String createdBy)
            throws IOException;
}
