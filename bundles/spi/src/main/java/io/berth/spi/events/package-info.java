/**
 * Engine events: what happened to containers, images, volumes and networks.
 */
@Export
@Version("1.0.0")
package io.berth.spi.events;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
