/**
 * OCI layer tars for storage drivers: safe extraction of hostile tars, reproducible writing,
 * whiteouts in OCI and overlay form, tree diffs and the naive diff adapter.
 *
 * <p>A library, not a service: each driver bundle embeds this package with bnd's
 * {@code -conditionalpackage: io.berth.storage.archive.*}, so it is never exported. At run
 * time it needs Apache Commons Compress (imported package
 * {@code org.apache.commons.compress.archivers.tar}) and these Debian tools: {@code getfattr}
 * and {@code setfattr} (package {@code attr}) for extended attributes, {@code mknod},
 * {@code touch} and {@code sh} for device nodes, fifos and overlay whiteouts.
 */
package io.berth.storage.archive;
