/**
 * Volumes of the local driver ({@link io.berth.containers.volumes.LocalVolumes}) and the planning of a container's
 * mounts from its {@code HostConfig} and its image's {@code VOLUME}s ({@link io.berth.containers.volumes.MountPlanner}).
 * Private to this bundle.
 */
package io.berth.containers.volumes;
