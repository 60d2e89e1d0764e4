/**
 * Network drivers: networks, the endpoints that join containers to them, and published ports; and the engine's
 * {@link io.berth.spi.network.NetworkService}, which names networks across drivers as docker network does.
 */
@Export
@Version("2.1.0")
package io.berth.spi.network;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
