/**
 * The management shell as a service, so front doors (the Engine API) can run shell commands without knowing Gogo.
 */
@Export
@Version("1.1.0")
package io.berth.spi.shell;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
