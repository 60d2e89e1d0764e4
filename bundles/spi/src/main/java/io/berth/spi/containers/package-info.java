/**
 * The engine's containers: configuration in the Engine API's shape, lifecycle, logs, exec, attach, copies and
 * commits.
 */
@Export
@Version("1.2.0")
package io.berth.spi.containers;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
