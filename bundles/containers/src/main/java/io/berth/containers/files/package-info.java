/**
 * {@code docker cp} and {@code docker export} on a container's mounted root filesystem and its mounts
 * ({@link io.berth.containers.files.ContainerFiles}), with paths resolved as inside a chroot
 * ({@link io.berth.containers.files.ContainerPaths}). Private to this bundle.
 */
package io.berth.containers.files;
