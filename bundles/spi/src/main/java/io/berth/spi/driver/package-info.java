/**
 * What every driver shares: its identity as service properties and its status (unconfigured, unsupported here, failed, active).
 */
@Export
@Version("1.0.0")
package io.berth.spi.driver;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
