/**
 * Volumes: named and anonymous directories that outlive containers.
 */
@Export
@Version("1.0.0")
package io.berth.spi.volumes;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
