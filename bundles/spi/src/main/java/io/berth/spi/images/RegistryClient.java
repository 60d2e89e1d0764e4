package io.berth.spi.images;

import java.io.IOException;
import java.util.List;
import java.util.function.Consumer;
import org.osgi.annotation.versioning.ConsumerType;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Talks to OCI/Docker registries: fetches an image's manifest and blobs into
 * the {@link ContentStore}, and pushes them from it. Credentials come with
 * each call (as the Engine API's X-Registry-Auth will); progress is reported
 * as events for the API to stream as Docker's JSON progress messages.
 */
@ProviderType
public interface RegistryClient {

    /** Credentials for one call: user name and password, or an identity token; all may be null. */
    record Credentials(String username, String password, String identityToken) {
        public static final Credentials NONE = new Credentials(null, null, null);
    }

    /**
     * One progress event, as Docker reports them.
     *
     * @param id      what it is about: a layer's short digest, or the reference
     * @param status  e.g. "Pulling fs layer", "Downloading", "Download complete", "Already exists", "Pushed"
     * @param current bytes done, or -1
     * @param total   bytes in all, or -1
     */
    record Progress(String id, String status, long current, long total) {
    }

    /**
     * What a pull fetched: the manifest chosen for the platform (stored in the
     * content store, like the config and every layer blob).
     *
     * @param reference      the normalised reference pulled
     * @param manifestDigest digest of the image manifest (not of an index)
     * @param indexDigest    digest of the index it was chosen from, or null
     * @param manifest       the manifest document
     * @param configDigest   digest of the image config
     * @param layers         digests and media types of the layer blobs, bottom first
     */
    record Pulled(Reference reference, String manifestDigest, String indexDigest, byte[] manifest, String configDigest,
                  List<Blob> layers) {
    }

    /** A blob a manifest names. */
    record Blob(String digest, String mediaType, long size) {
    }

    /**
     * Told as a pull goes on, so that the caller can unpack a layer while later ones still download (as dockerd
     * does). Calls come from the pulling threads; an exception thrown by a call fails the pull.
     */
    @ConsumerType
    interface PullListener {
        PullListener NONE = new PullListener() {
        };

        /**
         * The image is chosen and its config is in the content store, verified; no layer has been fetched yet.
         * {@code image}'s manifest is not stored yet: that happens once every layer is.
         */
        default void resolved(Pulled image) throws IOException {
        }

        /**
         * The blob of {@code image.layers().get(index)} is in the content store, verified (fetched now, or there
         * already). Called once per index, after that layer's "Download complete" or "Already exists" event, in
         * any order.
         */
        default void layerStored(int index) throws IOException {
        }

        /**
         * Asked once after {@link #resolved}: whether the listener unpacks each layer as soon as it is stored,
         * whatever the layers below it. Then the smallest blobs are fetched first, so that unpacking them (which
         * costs per file more than per byte) overlaps the big downloads; otherwise bottom first, as dockerd does.
         *
         * @since 1.5
         */
        default boolean unpacksInAnyOrder() {
            return false;
        }
    }

    /**
     * One repository a registry's search found, as Docker's v1 search ({@code GET /v1/search}) describes it.
     *
     * @param name        the repository, as the registry names it ({@code team/app})
     * @param description what its owner says about it, or ""
     */
    record SearchResult(String name, String description, int starCount, boolean official, boolean automated) {
    }

    /**
     * Docker's v1 search for {@code term}, as {@code docker search} means it: {@code HOST[:PORT]/WORDS} (a first
     * part with a dot or a colon, or {@code localhost}) asks that registry for WORDS, over http or https as a pull
     * from it would go; any other term asks Docker Hub.
     *
     * @param limit at most this many results, 1 to 100
     * @throws IllegalArgumentException for a limit outside 1 to 100
     */
    List<SearchResult> search(String term, int limit, Credentials credentials) throws IOException;

    /**
     * Fetches {@code reference} for {@code platform} ({@code os/arch[/variant]}, or null for the host's):
     * the manifest (choosing from an index), the config and every layer blob
     * not yet in the content store, three at a time, each verified.
     */
    Pulled pull(Reference reference, String platform, Credentials credentials, Consumer<Progress> progress)
            throws IOException;

    /**
     * {@link #pull(Reference, String, Credentials, Consumer)}, telling {@code listener} when the image is chosen
     * and as each layer blob is stored. A client that cannot tell earlier (this default) tells it all at the end.
     */
    default Pulled pull(Reference reference, String platform, Credentials credentials, Consumer<Progress> progress,
                        PullListener listener) throws IOException {
        Pulled pulled = pull(reference, platform, credentials, progress);
        listener.resolved(pulled);
        for (int i = 0; i < pulled.layers().size(); i++) {
            listener.layerStored(i);
        }
        return pulled;
    }

    /**
     * Pushes an image manifest and the blobs it names from the content store to
     * {@code reference}: blobs the registry has are skipped, blobs from another
     * repository of the same registry are mounted, the rest uploaded.
     *
     * @return the digest of the pushed manifest
     */
    String push(Reference reference, byte[] manifest, String mediaType, Credentials credentials,
                Consumer<Progress> progress) throws IOException;
}
