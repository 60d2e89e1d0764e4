/**
 * Small helpers every storage driver needs and none should write again:
 * deleting trees, durable small-file writes, layer-id checks, running
 * external commands with a bounded wait, and asking whether we run as root.
 * Like {@code io.berth.storage.archive}, this package is copied into each
 * driver bundle (bnd's {@code -conditionalpackage}) and never exported.
 */
package io.berth.storage.support;
