/**
 * The engine's containers: state on disk, lifecycle through a ContainerRuntime, logs, volumes, events, and
 * re-adoption of containers that kept running while the engine was away. Private to this bundle.
 */
package io.berth.containers;
