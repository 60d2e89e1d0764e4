/**
 * What every network driver needs and none should write again: the host's
 * network tools run on the host or in a namespace. Copied into each driver
 * bundle (bnd's {@code -conditionalpackage}) and never exported.
 */
package io.berth.network.support;
