package io.berth.containers.files;

import io.berth.spi.containers.Container.MountPoint;
import io.berth.spi.containers.PathStat;
import io.berth.spi.idmap.IdMap;
import io.berth.storage.archive.LayerArchiveException;
import io.berth.storage.archive.IdShift;
import io.berth.storage.archive.LayerTar;
import io.berth.storage.archive.WhiteoutFormat;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * {@code docker cp} and {@code docker export} for one container, given its mounted root filesystem and its mounts
 * (as inspect lists them). Paths are the container's, resolved as inside a chroot ({@link ContainerPaths}): links
 * never lead out of the container, and a path on a bind or volume is read and written in that mount's host source.
 * tmpfs mounts live only in the container's mount namespace and cannot be reached from here.
 *
 * <p>As Docker: a path ending in {@code /} or {@code /.} follows a link in its last element, otherwise the link
 * itself is meant; a missing path is a {@link NoSuchElementException} ("Could not find the file PATH in
 * container"), and the tar of {@link #copyFrom} has every entry under the path's base name ({@code .} for
 * {@code SRC/.} and for {@code /}), which the docker CLI renames as its copy rules say.
 */
public final class ContainerFiles {

    private static final String NOT_FOUND = "Could not find the file %s in container";

    private final Path rootfs;
    private final ContainerPaths paths;
    private final boolean readOnlyRootfs;
    private final Path scratch;
    private final IdMap idMap;

    /**
     * @param rootfs         the container's mounted root filesystem
     * @param mounts         its mounts (binds and volumes are reached through their sources)
     * @param readOnlyRootfs whether it runs with {@code --read-only}: then {@link #copyTo} outside a writable mount
     *                       is refused, as in Docker
     * @param scratch        a directory for the incoming tar of {@link #copyTo} while it is checked (e.g.
     *                       {@code <data-root>/tmp}); the file is removed afterwards
     */
    public ContainerFiles(Path rootfs, List<MountPoint> mounts, boolean readOnlyRootfs, Path scratch) {
        this(rootfs, mounts, readOnlyRootfs, scratch, null);
    }

    /**
     * Files of a container in a user namespace: tars out of it carry the owners the container sees, tars into it
     * are given the host owners of theirs.
     *
     * @param idMap the container's user namespace map, or null for none
     */
    public ContainerFiles(Path rootfs, List<MountPoint> mounts, boolean readOnlyRootfs, Path scratch, IdMap idMap) {
        this.idMap = idMap;
        this.rootfs = rootfs.toAbsolutePath();
        this.paths = new ContainerPaths(rootfs, mounts);
        this.readOnlyRootfs = readOnlyRootfs;
        this.scratch = scratch;
    }

    /** Describes a path ({@code HEAD /containers/ID/archive}); a link's target is given as a resolved container path. */
    public PathStat stat(String path) throws IOException {
        ContainerPaths.Resolved resolved = paths.resolve(path, followsLastLink(path));
        BasicFileAttributes attributes = existing(path, resolved);
        Map<String, Object> unix = Files.readAttributes(resolved.hostPath(), "unix:mode", LinkOption.NOFOLLOW_LINKS);
        String linkTarget = attributes.isSymbolicLink() ? paths.resolve(path, true).containerPath() : "";
        return new PathStat(baseName(path), attributes.size(), GoFileMode.of((Integer) unix.get("mode")),
                rfc3339(attributes.lastModifiedTime()), linkTarget);
    }

    /**
     * Writes a file or a tree as a tar ({@code GET /containers/ID/archive}), mounts below it included; returns the
     * path's {@link #stat}.
     */
    public PathStat copyFrom(String path, OutputStream tar) throws IOException {
        PathStat stat = stat(path);
        ContainerPaths.Resolved resolved = paths.resolve(path, followsLastLink(path));
        String name = stat.name().equals("/") ? "." : stat.name();
        writeInContainerIds(tar, out ->
                new TreeTar(out, this::hostPathForWalk).write(resolved.hostPath(), resolved.containerPath(), name));
        return stat;
    }

    /**
     * Extracts a tar into the directory {@code path} ({@code PUT /containers/ID/archive}). The tar is hostile: it
     * is spooled and checked whole before anything is written, and refused (with the entry named) for names that
     * leave the directory, paths through a link, hard links out of it, device nodes, layer whiteout names, entries
     * that would land inside another mount below {@code path}, and, with {@code noOverwriteDirNonDir}, a directory
     * replaced by a non-directory or the other way round. Entries keep the owners, modes and times the tar gives,
     * as Docker's daemon does unless asked to give them the container user's ids ({@code copyUIDGID}, which the SPI
     * does not have).
     */
    public void copyTo(String path, InputStream tar, boolean noOverwriteDirNonDir) throws IOException {
        ContainerPaths.Resolved target = paths.resolve(path, true);
        BasicFileAttributes attributes = existing(path, target);
        if (!attributes.isDirectory()) {
            throw new IllegalArgumentException("extraction point is not a directory");
        }
        if (target.mount() != null && !target.mount().rw()) {
            throw new IllegalStateException("mounted volume is marked read-only");
        }
        if (target.mount() == null && readOnlyRootfs) {
            throw new IllegalStateException("container rootfs is marked read-only");
        }
        Files.createDirectories(scratch);
        Path spool = Files.createTempFile(scratch, "cp-", ".tar");
        try {
            Files.copy(tar, spool, StandardCopyOption.REPLACE_EXISTING);
            new IncomingTarCheck(target, noOverwriteDirNonDir).check(spool);
            try (InputStream spooled = new BufferedInputStream(Files.newInputStream(spool), 1 << 16);
                 InputStream in = idMap == null ? spooled : IdShift.toHostIds(spooled, idMap)) {
                LayerTar.extract(in, target.hostPath(), WhiteoutFormat.OCI);
            }
        } finally {
            Files.deleteIfExists(spool);
        }
    }

    /** Writes the root filesystem as a tar ({@code docker export}): the image's content and its changes, no mounts. */
    public void export(OutputStream tar) throws IOException {
        writeInContainerIds(tar, out -> LayerTar.write(rootfs, out, WhiteoutFormat.OCI));
    }

    private interface TarWork {
        void write(OutputStream tar) throws IOException;
    }

    /** Writes a tar of the container's files to {@code tar} with the owners the container sees. */
    private void writeInContainerIds(OutputStream tar, TarWork work) throws IOException {
        if (idMap == null) {
            work.write(tar);
            return;
        }
        try (OutputStream shifted = IdShift.toContainerIds(tar, idMap)) {
            work.write(shifted);
        }
    }

    // --- helpers --------------------------------------------------------------------------------

    /** Docker follows a link in the last element only for {@code path/} and {@code path/.}. */
    static boolean followsLastLink(String path) {
        return path.isEmpty() || path.endsWith("/") || path.equals(".") || path.endsWith("/.");
    }

    /** Go's {@code filepath.Base} of the path as given, so {@code /etc/.} is {@code .} and {@code /etc/} is {@code etc}. */
    static String baseName(String path) {
        String trimmed = path;
        while (trimmed.length() > 1 && trimmed.endsWith("/")) {
            trimmed = trimmed.substring(0, trimmed.length() - 1);
        }
        if (trimmed.equals("/") || trimmed.isEmpty()) {
            return "/";
        }
        return trimmed.substring(trimmed.lastIndexOf('/') + 1);
    }

    private static BasicFileAttributes existing(String path, ContainerPaths.Resolved resolved) throws IOException {
        BasicFileAttributes attributes = ContainerPaths.lstat(resolved.hostPath());
        if (attributes == null) {
            throw new NoSuchElementException(String.format(NOT_FOUND, path));
        }
        if (followsLastLink(path) && !attributes.isDirectory()) {
            throw new IllegalArgumentException(path + ": not a directory");
        }
        return attributes;
    }

    /** A mount point below a copied tree is walked into; a tmpfs one shows the (empty) directory beneath it. */
    private Path hostPathForWalk(String containerPath) {
        try {
            return paths.locate(ContainerPaths.parts(containerPath)).hostPath();
        } catch (IllegalArgumentException tmpfs) {
            return rootfs.resolve(containerPath.substring(1));
        }
    }

    private static String rfc3339(FileTime time) {
        return time.toInstant().toString();
    }

    /**
     * Reads a spooled incoming tar's headers and refuses it before anything is extracted; what the extraction
     * refuses on its own (a malformed header, a hard link to a missing file) is caught here too, so that a refused
     * tar writes nothing.
     */
    private final class IncomingTarCheck {

        private final ContainerPaths.Resolved target;
        private final boolean noOverwriteDirNonDir;
        private final List<List<String>> mountsBelow = new ArrayList<>();
        /** What earlier entries of this tar make: relative path -> 'd' (directory), 'l' (link) or 'f' (other). */
        private final Map<String, Character> made = new HashMap<>();

        IncomingTarCheck(ContainerPaths.Resolved target, boolean noOverwriteDirNonDir) {
            this.target = target;
            this.noOverwriteDirNonDir = noOverwriteDirNonDir;
            List<String> base = ContainerPaths.parts(target.containerPath());
            for (MountPoint mount : paths.mountsBelow(target.containerPath())) {
                List<String> destination = ContainerPaths.parts(mount.destination());
                mountsBelow.add(destination.subList(base.size(), destination.size()));
            }
        }

        void check(Path spool) throws IOException {
            try (InputStream in = new BufferedInputStream(Files.newInputStream(spool), 1 << 16);
                 TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
                TarArchiveEntry entry;
                String previous = null;
                while ((entry = next(tar, previous)) != null) {
                    checkEntry(entry);
                    previous = entry.getName();
                }
                if (previous != null && !endsWithMarker(spool, tar.getBytesRead())) {
                    throw new LayerArchiveException("truncated tar: no end-of-archive marker after entry '"
                            + previous + "'");
                }
            }
        }

        private TarArchiveEntry next(TarArchiveInputStream tar, String previous) throws LayerArchiveException {
            try {
                return tar.getNextEntry();
            } catch (IOException | RuntimeException e) {
                throw new LayerArchiveException("malformed tar " + (previous == null ? "at its first entry"
                        : "after entry '" + previous + "'") + ": " + e.getMessage(), e);
            }
        }

        private void checkEntry(TarArchiveEntry entry) throws IOException {
            String name = entry.getName();
            List<String> parts = clean(name, name);
            if (entry.isCharacterDevice() || entry.isBlockDevice()) {
                throw refuse(name, "is a device node; device nodes are not copied into containers");
            }
            if (!parts.isEmpty() && parts.get(parts.size() - 1).startsWith(".wh.")) {
                throw refuse(name, "has a name starting with .wh., which marks a deletion in image layers");
            }
            if (idMap != null) {
                try {
                    idMap.hostUid((int) entry.getLongUserId());
                    idMap.hostGid((int) entry.getLongGroupId());
                } catch (IllegalArgumentException e) {
                    throw refuse(name, "has an owner the container's user namespace does not map (" + e.getMessage()
                            + ")");
                }
            }
            checkNotInMountBelow(name, parts);
            for (int i = 1; i < parts.size(); i++) {
                checkParent(name, parts.subList(0, i));
            }
            if (entry.isLink()) {
                checkHardLinkTarget(name, entry.getLinkName());
            }
            if (parts.isEmpty()) {
                return; // the directory itself
            }
            String relative = String.join("/", parts);
            boolean directory = entry.isDirectory();
            Character madeKind = made.get(relative);
            Boolean existingIsDirectory = madeKind == null ? null : madeKind == 'd';
            if (existingIsDirectory == null) {
                BasicFileAttributes existing = ContainerPaths.lstat(target.hostPath().resolve(relative));
                existingIsDirectory = existing == null ? null : existing.isDirectory();
            }
            if (noOverwriteDirNonDir && existingIsDirectory != null && existingIsDirectory != directory) {
                String where = join(target.containerPath(), parts);
                throw new IllegalArgumentException(existingIsDirectory
                        ? "cannot overwrite directory \"" + where + "\" with non-directory \"" + target.containerPath() + "\""
                        : "cannot overwrite non-directory \"" + where + "\" with directory \"" + target.containerPath() + "\"");
            }
            made.put(relative, directory ? 'd' : entry.isSymbolicLink() ? 'l' : 'f');
        }

        /** The tar is extracted into one host directory; what another mount below it holds is out of its reach. */
        private void checkNotInMountBelow(String name, List<String> parts) throws LayerArchiveException {
            for (List<String> mount : mountsBelow) {
                if (parts.size() > mount.size() && parts.subList(0, mount.size()).equals(mount)) {
                    throw refuse(name, "lies in the mount at " + join(target.containerPath(), mount)
                            + "; copy to that path itself");
                }
            }
        }

        /** A parent must be (or be made by this tar as) a real directory, never a link. */
        private void checkParent(String name, List<String> parent) throws IOException {
            String relative = String.join("/", parent);
            Character madeKind = made.get(relative);
            if (madeKind != null) {
                if (madeKind != 'd') {
                    throw refuse(name, "goes through '" + relative + "', which this tar makes a "
                            + (madeKind == 'l' ? "symbolic link" : "non-directory"));
                }
                return;
            }
            BasicFileAttributes existing = ContainerPaths.lstat(target.hostPath().resolve(relative));
            if (existing != null && existing.isSymbolicLink()) {
                throw refuse(name, "goes through '" + relative + "', which is a symbolic link; links are never followed");
            }
            if (existing != null && !existing.isDirectory()) {
                throw refuse(name, "goes through '" + relative + "', which is not a directory");
            }
            made.put(relative, 'd'); // existing or created on the way
        }

        private void checkHardLinkTarget(String name, String linkName) throws IOException {
            if (linkName.startsWith("/")) {
                throw refuse(name, "is a hard link to the absolute path '" + linkName + "'");
            }
            List<String> parts = clean(linkName, name);
            checkNotInMountBelow(name, parts);
            String relative = String.join("/", parts);
            Character madeKind = made.get(relative);
            if (madeKind != null) {
                if (madeKind == 'f') {
                    return;
                }
            } else if (!parts.isEmpty()) {
                for (int i = 1; i < parts.size(); i++) {
                    checkParent(name, parts.subList(0, i));
                }
                BasicFileAttributes existing = ContainerPaths.lstat(target.hostPath().resolve(relative));
                if (existing != null && !existing.isDirectory() && !existing.isSymbolicLink()) {
                    return;
                }
            }
            throw refuse(name, "is a hard link to '" + linkName + "', which is not a file in the destination");
        }

        /** The name's parts with {@code .} and {@code ..} applied; refused if absolute or climbing out. */
        private List<String> clean(String path, String entryName) throws LayerArchiveException {
            if (path.startsWith("/")) {
                throw refuse(entryName, "has an absolute path; entries must be relative to the destination");
            }
            List<String> parts = new ArrayList<>();
            for (String part : ContainerPaths.parts(path)) {
                if (!part.equals("..")) {
                    parts.add(part);
                } else if (parts.isEmpty()) {
                    throw refuse(entryName, "climbs out of the destination with '..'");
                } else {
                    parts.remove(parts.size() - 1);
                }
            }
            return parts;
        }

        /** Whether the 512 bytes before {@code offset} (the last block the reader took) are zero: the end marker. */
        private static boolean endsWithMarker(Path spool, long offset) throws IOException {
            if (offset < 512) {
                return false;
            }
            ByteBuffer block = ByteBuffer.allocate(512);
            try (FileChannel channel = FileChannel.open(spool, StandardOpenOption.READ)) {
                channel.read(block, offset - 512);
            }
            for (byte b : block.array()) {
                if (b != 0) {
                    return false;
                }
            }
            return block.position() == 512;
        }

        private static String join(String base, List<String> parts) {
            return (base.equals("/") ? "" : base) + "/" + String.join("/", parts);
        }

        private static LayerArchiveException refuse(String entryName, String why) {
            return new LayerArchiveException("tar entry '" + entryName + "': " + why);
        }
    }
}
