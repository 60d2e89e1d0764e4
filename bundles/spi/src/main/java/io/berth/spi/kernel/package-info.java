/**
 * Facts the kernel publishes as framework properties and services: version, data-root, exec-root, start time, listening sockets.
 */
@Export
@Version("1.0.0")
package io.berth.spi.kernel;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
