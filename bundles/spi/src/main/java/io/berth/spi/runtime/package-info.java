/**
 * Container runtimes: one OCI bundle created, started, signalled, inspected and deleted.
 */
@Export
@Version("1.0.0")
package io.berth.spi.runtime;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
