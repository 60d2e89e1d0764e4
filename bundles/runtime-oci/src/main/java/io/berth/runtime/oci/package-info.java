/**
 * The OCI runtime driver: writes a container's OCI bundle from a RuntimeSpec and has runc or crun run it under
 * conmon, so the container lives outside the JVM. Private to this bundle.
 */
package io.berth.runtime.oci;
