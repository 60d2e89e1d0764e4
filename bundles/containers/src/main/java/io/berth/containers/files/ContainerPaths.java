package io.berth.containers.files;

import io.berth.spi.containers.Container.MountPoint;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;

/**
 * Paths of a container resolved on the host as if inside a chroot of its root filesystem: {@code ..} stops at
 * {@code /}, a symbolic link (absolute or relative) is followed within the container's tree, never out of it, and
 * a path at or below a mount point resolves into that mount's host source. Each element is looked at with lstat
 * as it is reached, so a link is always read where the container would read it.
 *
 * <p>A container that runs while its files are resolved can swap a directory for a link between the check and the
 * use (Docker had that race too); callers that write use lstat-checking extraction below the resolved directory.
 */
public final class ContainerPaths {

    /** As Linux's MAXSYMLINKS. */
    private static final int MAX_LINKS = 40;

    private final Path rootfs;
    /** Deepest destination first, so the first match is the innermost mount. */
    private final List<MountPoint> mounts;

    /**
     * A resolved path.
     *
     * @param containerPath the clean absolute path in the container after following links
     * @param hostPath      where it is on the host
     * @param mount         the mount it is on, or null for the root filesystem
     */
    public record Resolved(String containerPath, Path hostPath, MountPoint mount) {
    }

    /**
     * @param rootfs the container's mounted root filesystem
     * @param mounts its mounts, as inspect shows them
     */
    public ContainerPaths(Path rootfs, List<MountPoint> mounts) {
        this.rootfs = rootfs.toAbsolutePath();
        this.mounts = new ArrayList<>(mounts == null ? List.of() : mounts);
        this.mounts.sort(Comparator.comparingInt((MountPoint m) -> parts(m.destination()).size()).reversed());
    }

    /**
     * Resolves {@code path} (relative paths start at {@code /}).
     *
     * @param followLast whether a symbolic link as the last element is followed too ({@code cp} follows it only
     *                   when the path ends with {@code /} or {@code /.})
     * @throws IOException when links nest deeper than 40
     */
    public Resolved resolve(String path, boolean followLast) throws IOException {
        Deque<String> todo = new ArrayDeque<>(parts(path));
        List<String> done = new ArrayList<>();
        int links = 0;
        while (!todo.isEmpty()) {
            String part = todo.removeFirst();
            if (part.equals("..")) {
                if (!done.isEmpty()) {
                    done.remove(done.size() - 1);
                }
                continue;
            }
            done.add(part);
            if (todo.isEmpty() && !followLast) {
                break;
            }
            if (isMountPoint(done)) {
                continue; // a mounted directory, never a link (and a tmpfs one cannot be looked at from here)
            }
            Path host = locate(done).hostPath();
            BasicFileAttributes attributes = lstat(host);
            if (attributes == null || !attributes.isSymbolicLink()) {
                continue;
            }
            if (++links > MAX_LINKS) {
                throw new IOException(path + ": too many levels of symbolic links");
            }
            String target = Files.readSymbolicLink(host).toString();
            done.remove(done.size() - 1);
            if (target.startsWith("/")) {
                done.clear();
            }
            List<String> targetParts = parts(target);
            for (int i = targetParts.size() - 1; i >= 0; i--) {
                todo.addFirst(targetParts.get(i));
            }
        }
        return locate(done);
    }

    /** Where the clean container path made of {@code parts} is on the host, following no link. */
    public Resolved locate(List<String> parts) {
        String containerPath = "/" + String.join("/", parts);
        for (MountPoint mount : mounts) {
            List<String> destination = parts(mount.destination());
            if (startsWith(parts, destination)) {
                if (mount.source() == null || mount.source().isEmpty()) {
                    throw new IllegalArgumentException(containerPath + " is on the " + mount.type() + " mount "
                            + mount.destination() + ", which only the container's processes can reach");
                }
                Path host = Path.of(mount.source());
                for (String part : parts.subList(destination.size(), parts.size())) {
                    host = host.resolve(part);
                }
                return new Resolved(containerPath, host, mount);
            }
        }
        Path host = rootfs;
        for (String part : parts) {
            host = host.resolve(part);
        }
        return new Resolved(containerPath, host, null);
    }

    private boolean isMountPoint(List<String> parts) {
        for (MountPoint mount : mounts) {
            if (parts(mount.destination()).equals(parts)) {
                return true;
            }
        }
        return false;
    }

    /** The mounts strictly below the clean container path {@code dir}, outermost first. */
    public List<MountPoint> mountsBelow(String dir) {
        List<String> base = parts(dir);
        List<MountPoint> below = new ArrayList<>();
        for (MountPoint mount : mounts) {
            List<String> destination = parts(mount.destination());
            if (destination.size() > base.size() && startsWith(destination, base)) {
                below.add(0, mount);
            }
        }
        return below;
    }

    /** The non-empty, non-{@code .} elements of a path; {@code ..} is kept. */
    public static List<String> parts(String path) {
        List<String> parts = new ArrayList<>();
        for (String part : path.split("/")) {
            if (!part.isEmpty() && !part.equals(".")) {
                parts.add(part);
            }
        }
        return parts;
    }

    private static boolean startsWith(List<String> path, List<String> prefix) {
        return path.size() >= prefix.size() && path.subList(0, prefix.size()).equals(prefix);
    }

    /** lstat(2): null when nothing is there. */
    static BasicFileAttributes lstat(Path path) throws IOException {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        } catch (FileSystemException e) {
            if ("Not a directory".equals(e.getReason())) {
                return null; // a file where a directory was expected: nothing there either
            }
            throw e;
        }
    }
}
