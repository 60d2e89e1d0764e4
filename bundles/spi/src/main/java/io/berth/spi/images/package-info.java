/**
 * The engine's image services: the content store, the layer store, images and their names, the registry client,
 * and the seam through which containers say which images they use.
 */
@Export
@Version("1.5.0")
package io.berth.spi.images;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
