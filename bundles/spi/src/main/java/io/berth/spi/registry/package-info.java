/**
 * The registry server this daemon runs, for the front doors (shell, API) to see and tend.
 */
@Export
@Version("1.0.0")
package io.berth.spi.registry;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
