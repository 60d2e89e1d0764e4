/**
 * Container runtimes: containers created from a {@link io.berth.spi.runtime.RuntimeSpec}, started, signalled,
 * attached to, inspected and deleted, supervised outside the JVM.
 */
@Export
@Version("2.2.0")
package io.berth.spi.runtime;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
