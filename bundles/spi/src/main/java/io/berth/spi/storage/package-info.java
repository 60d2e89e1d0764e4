/**
 * Storage drivers: image and container layers as a parent chain (moby's graphdriver shape).
 */
@Export
@Version("1.1.0")
package io.berth.spi.storage;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
