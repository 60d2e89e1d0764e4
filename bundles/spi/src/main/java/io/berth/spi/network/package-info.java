/**
 * Network drivers: networks, the endpoints that join containers to them, and published ports.
 */
@Export
@Version("2.0.0")
package io.berth.spi.network;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
