/**
 * User namespace id mappings: which host uids and gids a container's ids stand for
 * ({@code userns-remap} in daemon.json). Shared by the runtime (the OCI spec's mappings), the layer store (files
 * owned by the container's root) and the containers' file copies.
 */
@Export
@Version("1.0.0")
package io.berth.spi.idmap;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
