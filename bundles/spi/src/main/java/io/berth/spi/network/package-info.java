/**
 * Network drivers: networks and the endpoints that join containers to them.
 */
@Export
@Version("1.0.0")
package io.berth.spi.network;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
