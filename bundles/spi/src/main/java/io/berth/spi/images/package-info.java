/**
 * The engine's image services: the layer store (and, later, the content store and image metadata).
 */
@Export
@Version("1.0.0")
package io.berth.spi.images;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
