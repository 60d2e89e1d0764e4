package io.berth.storage.overlay;

import io.berth.spi.driver.DriverStatus;
import io.berth.spi.storage.Change;
import io.berth.spi.storage.DiffDriver;
import io.berth.spi.storage.LayerNotFoundException;
import io.berth.spi.storage.StorageCapability;
import io.berth.storage.archive.LayerTar;
import io.berth.storage.archive.TreeDiff;
import io.berth.storage.archive.WhiteoutFormat;
import io.berth.storage.support.Commands;
import io.berth.storage.support.DiskFiles;
import io.berth.storage.support.Host;
import io.berth.storage.support.LayerIds;
import io.berth.storage.support.MountTable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The overlay2 storage driver: each layer keeps only its own content and is
 * shown on top of its parents by a kernel overlay mount, so the upper
 * directory <em>is</em> the layer's diff.
 *
 * <p>Layout below the root (Docker's overlay2 layout, plus {@code parent} and {@code mounts}):
 * <pre>
 * l/&lt;short&gt;        -&gt; ../&lt;id&gt;/diff   short names keep the mount options under a page
 * &lt;id&gt;/diff          the layer's own content (overlay's upper directory)
 * &lt;id&gt;/link          the layer's short name
 * &lt;id&gt;/lower         "l/&lt;short&gt;:l/&lt;short&gt;:..." of its parents, nearest first (absent for a base layer)
 * &lt;id&gt;/parent        the parent's id (absent for a base layer)
 * &lt;id&gt;/work, merged   overlay's work directory and the mount point
 * &lt;id&gt;/mounts        outstanding gets and the boot they belong to (absent when 0)
 * </pre>
 * A base layer is not mounted at all: {@link #get} returns its {@code diff}.
 * Mounts are made with the root as working directory and relative paths, as
 * overlay2 does, so a chain of a few hundred layers fits in one mount.
 *
 * <p>Mounts outlive the driver instance. The reference counts are on disk
 * (written atomically), so a new instance, e.g. after a bundle update,
 * re-adopts existing mounts; on start it resets counts of mounts that are
 * gone (a reboot, an unmount behind its back) and unmounts mounts nobody
 * counted (a crash between mount and count).
 *
 * <p>A crash at any moment leaves nothing that blocks a retry: layers are
 * assembled in {@code .staging-<id>} and renamed into place, removed by a
 * rename to {@code .removing-<id>}; both are cleaned when a driver starts.
 */
public final class OverlayStorageDriver implements DiffDriver {

    public static final String NAME = "overlay2";

    private static final String LINK_DIR = "l";
    private static final String STAGING = ".staging-";
    private static final String REMOVING = ".removing-";
    private static final String PROBE = ".probe-";
    /** Length of a short link name: 10 base32 characters (50 random bits) keep 130 lower dirs at ~1,700 bytes. */
    private static final int SHORT_NAME_LENGTH = 10;
    private static final char[] BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".toCharArray();
    /** mount(2) copies at most one page of options; 4096 is the smallest page size Linux has. */
    private static final int MAX_MOUNT_DATA = 4096 - 1;
    private static final int S_IFMT = 0170000;
    private static final int S_IFCHR = 0020000;
    private static final Path OVERLAY_PARAMETERS = Path.of("/sys/module/overlay/parameters");
    private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");
    /** The longest wait for one short external command (mount, umount, getfattr). */
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(120);

    private final Path root;
    private final Path links;
    private final SecureRandom random = new SecureRandom();
    /** Creates and removes of layers take this lock, so "has it a child?" has one answer. */
    private final Object structure = new Object();
    /** One lock per layer id, for get, put and remove. */
    private final Map<String, Object> layerLocks = new ConcurrentHashMap<>();
    /** Fixed options that every mount starts with, e.g. {@code index=off,}. */
    private final String fixedOptions;
    private final String bootId;
    private final DriverStatus status;

    /**
     * Opens (or creates) the driver's root. Never fails because overlay is
     * unusable here: {@link #status()} then reports why, and layer operations
     * refuse with that reason.
     */
    public OverlayStorageDriver(Path root) {
        Objects.requireNonNull(root, "root");
        this.fixedOptions = fixedOptions();
        this.bootId = readBootId();
        Path resolved = root.toAbsolutePath().normalize();
        DriverStatus state;
        try {
            Files.createDirectories(resolved);
            resolved = resolved.toRealPath();
            Files.createDirectories(resolved.resolve(LINK_DIR));
            state = null;
        } catch (IOException | RuntimeException e) {
            state = DriverStatus.failed("cannot create " + resolved + ": " + e);
        }
        this.root = resolved;
        this.links = resolved.resolve(LINK_DIR);
        if (state == null) {
            try {
                recover();
            } catch (IOException | RuntimeException e) {
                state = DriverStatus.failed("cannot recover the state in " + resolved + ": " + e);
            }
        }
        this.status = state != null ? state : probe();
    }

    // --- status --------------------------------------------------------------------------------

    @Override
    public DriverStatus status() {
        return status;
    }

    @Override
    public Set<StorageCapability> capabilities() {
        return Host.isRoot() ? EnumSet.of(StorageCapability.PRIVILEGED_XATTRS, StorageCapability.DEVICE_NODES,
                StorageCapability.COPY_ON_WRITE, StorageCapability.INDEPENDENT_DIFFS)
                : EnumSet.of(StorageCapability.INDEPENDENT_DIFFS);
    }

    /** The driver's root directory ({@code <data-root>/overlay2}). */
    public Path root() {
        return root;
    }

    /** Outstanding {@link #get}s of a layer as recorded on disk. */
    public int mountCount(String id) throws IOException {
        existing(id);
        return readCount(id);
    }

    // --- layers --------------------------------------------------------------------------------

    @Override
    public void create(String id, String parent) throws IOException {
        createLayer(id, parent);
    }

    @Override
    public void createReadWrite(String id, String parent) throws IOException {
        createLayer(id, parent);
    }

    private void createLayer(String id, String parent) throws IOException {
        Path dir = layer(id);
        if (parent != null) {
            layer(parent);
        }
        requireUsable();
        synchronized (structure) {
            if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw new FileAlreadyExistsException(dir.toString(), null, "layer " + id + " already exists");
            }
            String lower = null;
            if (parent != null) {
                Path parentDir = existing(parent);
                String parentLink = DiskFiles.readOrNull(parentDir.resolve("link"));
                if (parentLink == null) {
                    throw new IOException("layer " + parent + " has no link file");
                }
                String parentLower = DiskFiles.readOrNull(parentDir.resolve("lower"));
                lower = LINK_DIR + "/" + parentLink + (parentLower == null || parentLower.isEmpty() ? "" : ":" + parentLower);
                String options = mountOptions(id, lower);
                if (options.length() > MAX_MOUNT_DATA) {
                    throw new IOException("layer " + id + " would have " + lower.split(":").length
                            + " layers below it; their mount options (" + options.length()
                            + " bytes) exceed one page");
                }
            }
            Path staging = root.resolve(STAGING + id);
            DiskFiles.deleteTree(staging); // left by a create of the same id that was killed half-way
            Path link = null;
            try {
                Files.createDirectory(staging, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                Files.createDirectory(staging.resolve("diff"));
                Files.setPosixFilePermissions(staging.resolve("diff"), PosixFilePermissions.fromString("rwxr-xr-x"));
                Files.createDirectory(staging.resolve("work"));
                Files.createDirectory(staging.resolve("merged"));
                String shortName = newShortName();
                DiskFiles.writeAtomicallyOwnerOnly(staging.resolve("link"), shortName);
                if (parent != null) {
                    DiskFiles.writeAtomicallyOwnerOnly(staging.resolve("lower"), lower);
                    DiskFiles.writeAtomicallyOwnerOnly(staging.resolve("parent"), parent);
                }
                // The link dangles until the rename below; a crash in between leaves a dangling link that start-up removes.
                link = links.resolve(shortName);
                Files.createSymbolicLink(link, Path.of("..", id, "diff"));
                DiskFiles.syncDirectory(links);
                Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
                DiskFiles.syncDirectory(root);
            } catch (IOException | RuntimeException e) {
                try {
                    DiskFiles.deleteTree(staging);
                    if (link != null && !Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                        Files.deleteIfExists(link);
                    }
                } catch (IOException cleanup) {
                    e.addSuppressed(cleanup);
                }
                throw e;
            }
        }
    }

    @Override
    public Path get(String id) throws IOException {
        layer(id);
        requireUsable();
        synchronized (lock(id)) {
            Path dir = existing(id);
            int count = readCount(id);
            String lower = DiskFiles.readOrNull(dir.resolve("lower"));
            if (lower == null || lower.isEmpty()) {
                writeCount(id, count + 1);
                return dir.resolve("diff");
            }
            Path merged = dir.resolve("merged");
            // Normally mounted exactly when counted; a mount that vanished is made again, one nobody counted is adopted.
            boolean mounted = MountTable.read().isMountPoint(merged);
            if (!mounted) {
                mount(id, lower);
            }
            try {
                writeCount(id, count + 1);
            } catch (IOException | RuntimeException e) {
                if (!mounted) {
                    try {
                        unmount(merged);
                    } catch (IOException cleanup) {
                        e.addSuppressed(cleanup);
                    }
                }
                throw e;
            }
            return merged;
        }
    }

    @Override
    public void put(String id) throws IOException {
        layer(id);
        synchronized (lock(id)) {
            Path dir = existing(id);
            int count = readCount(id);
            Path merged = dir.resolve("merged");
            if (count > 1) {
                writeCount(id, count - 1);
                return;
            }
            // The last release (or a put without a get: then only an uncounted mount is cleaned up).
            if (DiskFiles.readOrNull(dir.resolve("lower")) != null && MountTable.read().isMountPoint(merged)) {
                unmount(merged);
            }
            writeCount(id, 0);
        }
    }

    @Override
    public boolean exists(String id) {
        return isValidId(id) && Files.isDirectory(root.resolve(id), LinkOption.NOFOLLOW_LINKS);
    }

    @Override
    public void remove(String id) throws IOException {
        layer(id);
        synchronized (structure) {
            synchronized (lock(id)) {
                Path dir = existing(id);
                int count = readCount(id);
                if (count > 0) {
                    throw new IOException("layer " + id + " is in use (" + count + " mounts)");
                }
                String child = childOf(id);
                if (child != null) {
                    throw new IOException("layer " + id + " is the parent of layer " + child);
                }
                Path merged = dir.resolve("merged");
                if (MountTable.read().isMountPoint(merged)) {
                    unmount(merged); // mounted but counted by nobody: a crash between mount and count
                }
                String shortName = DiskFiles.readOrNull(dir.resolve("link"));
                Path doomed = root.resolve(REMOVING + id);
                DiskFiles.deleteTree(doomed); // left by a removal of the same id that was killed half-way
                Files.move(dir, doomed, StandardCopyOption.ATOMIC_MOVE);
                if (shortName != null && isValidShortName(shortName)) {
                    Files.deleteIfExists(links.resolve(shortName));
                }
                DiskFiles.deleteTree(doomed);
            }
        }
    }

    @Override
    public long usage(String id) throws IOException {
        return DiskFiles.sizeOfContent(existing(id).resolve("diff"));
    }

    @Override
    public String parent(String id) throws IOException {
        String parent = DiskFiles.readOrNull(existing(id).resolve("parent"));
        return parent == null || parent.isEmpty() ? null : parent;
    }

    // --- diffs ---------------------------------------------------------------------------------

    /**
     * The layer's upper directory as an OCI tar when {@code parent} is its
     * parent; otherwise the difference of the two mounted trees.
     */
    @Override
    public InputStream diff(String id, String parent) throws IOException {
        Path diff = existing(id).resolve("diff");
        if (parent != null) {
            existing(parent);
        }
        if (Objects.equals(parent, parent(id))) {
            return DiffStream.start("overlay2-diff-" + id, out -> LayerTar.write(diff, out, WhiteoutFormat.OVERLAY));
        }
        // Another base than the layer's parent: compare the two mounted trees, which stay mounted until the tar is done.
        Path upper = get(id);
        Path lower;
        try {
            lower = parent == null ? null : get(parent);
        } catch (IOException | RuntimeException e) {
            put(id);
            throw e;
        }
        return DiffStream.start("overlay2-naive-diff-" + id, out -> {
            try {
                TreeDiff.write(lower, upper, out);
            } finally {
                try {
                    put(id);
                } finally {
                    if (parent != null) {
                        put(parent);
                    }
                }
            }
        });
    }

    /**
     * Extracts the tar straight into the upper directory, turning OCI
     * whiteouts into overlay's; the layer must not be mounted, as overlay does
     * not allow changing an upper directory under a mount. For another base
     * than the layer's parent the tar is extracted into the mounted view
     * instead (as moby's naive diff driver does).
     */
    @Override
    public long applyDiff(String id, String parent, InputStream tar) throws IOException {
        layer(id);
        if (parent != null) {
            layer(parent);
        }
        if (!Objects.equals(parent, parent(id))) {
            Path view = get(id);
            try {
                return LayerTar.extract(tar, view, WhiteoutFormat.OCI);
            } finally {
                put(id);
            }
        }
        synchronized (lock(id)) {
            Path dir = existing(id);
            int count = readCount(id);
            if (count > 0 && DiskFiles.readOrNull(dir.resolve("lower")) != null) {
                throw new IOException("layer " + id + " is mounted (" + count + " mounts); apply its diff before mounting it");
            }
            return LayerTar.extract(tar, dir.resolve("diff"), WhiteoutFormat.OVERLAY);
        }
    }

    /**
     * Read from the upper directory: overlay whiteouts are deletions, opaque
     * directories replace the parent's (their hidden entries are deletions),
     * and every other path is a modification when the parent's view has it
     * and an addition otherwise.
     */
    @Override
    public List<Change> changes(String id, String parent) throws IOException {
        Path diff = existing(id).resolve("diff");
        if (parent != null) {
            existing(parent);
        }
        if (!Objects.equals(parent, parent(id))) {
            Path lower = parent == null ? null : get(parent);
            try {
                Path upper = get(id);
                try {
                    return TreeDiff.changes(lower, upper);
                } finally {
                    put(id);
                }
            } finally {
                if (parent != null) {
                    put(parent);
                }
            }
        }
        Path lower = parent == null ? null : get(parent);
        try {
            return upperChanges(diff, lower);
        } finally {
            if (parent != null) {
                put(parent);
            }
        }
    }

    private static List<Change> upperChanges(Path upper, Path lower) throws IOException {
        Set<Path> opaque = Xattrs.opaqueDirectories(upper);
        Map<String, Change> changes = new LinkedHashMap<>();
        Files.walkFileTree(upper, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (dir.equals(upper)) {
                    return FileVisitResult.CONTINUE;
                }
                String path = containerPath(upper, dir);
                Path below = lowerPath(lower, upper, dir);
                boolean inLower = below != null && Files.exists(below, LinkOption.NOFOLLOW_LINKS);
                changes.put(path, new Change(path, inLower ? Change.Kind.MODIFIED : Change.Kind.ADDED));
                if (opaque.contains(dir) && inLower && Files.isDirectory(below, LinkOption.NOFOLLOW_LINKS)) {
                    try (DirectoryStream<Path> hidden = Files.newDirectoryStream(below)) {
                        for (Path entry : hidden) {
                            Path mine = dir.resolve(entry.getFileName().toString());
                            if (!Files.exists(mine, LinkOption.NOFOLLOW_LINKS)) {
                                String gone = containerPath(upper, mine);
                                changes.put(gone, new Change(gone, Change.Kind.DELETED));
                            }
                        }
                    }
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                String path = containerPath(upper, file);
                if (isWhiteout(file, attrs)) {
                    Path below = lowerPath(lower, upper, file);
                    if (below != null && Files.exists(below, LinkOption.NOFOLLOW_LINKS)) {
                        changes.put(path, new Change(path, Change.Kind.DELETED));
                    }
                    return FileVisitResult.CONTINUE;
                }
                Path below = lowerPath(lower, upper, file);
                boolean inLower = below != null && Files.exists(below, LinkOption.NOFOLLOW_LINKS);
                changes.put(path, new Change(path, inLower ? Change.Kind.MODIFIED : Change.Kind.ADDED));
                return FileVisitResult.CONTINUE;
            }
        });
        List<Change> sorted = new ArrayList<>(changes.values());
        sorted.sort(Comparator.comparing(Change::path));
        return sorted;
    }

    private static String containerPath(Path upper, Path file) {
        return "/" + upper.relativize(file).toString();
    }

    private static Path lowerPath(Path lower, Path upper, Path file) {
        return lower == null ? null : lower.resolve(upper.relativize(file).toString());
    }

    /** Overlay marks a deleted path with a character device 0/0 of the same name. */
    static boolean isWhiteout(Path file, BasicFileAttributes attrs) throws IOException {
        if (!attrs.isOther()) {
            return false;
        }
        Map<String, Object> unix = Files.readAttributes(file, "unix:mode,rdev", LinkOption.NOFOLLOW_LINKS);
        return ((Integer) unix.get("mode") & S_IFMT) == S_IFCHR && ((Long) unix.get("rdev")) == 0L;
    }

    // --- mounting ------------------------------------------------------------------------------

    private void mount(String id, String lower) throws IOException {
        String options = mountOptions(id, lower);
        if (options.length() > MAX_MOUNT_DATA) {
            throw new IOException("the mount options of layer " + id + " (" + options.length() + " bytes) exceed one page");
        }
        // Relative paths, resolved against the root as the working directory, keep the options short.
        Commands.check(List.of("mount", "-t", "overlay", "overlay", "-o", options, id + "/merged"), root, COMMAND_TIMEOUT);
    }

    private String mountOptions(String id, String lower) {
        return fixedOptions + "lowerdir=" + lower + ",upperdir=" + id + "/diff,workdir=" + id + "/work";
    }

    /**
     * Unmounts, detaching like Docker does, so a process still using the tree
     * does not make the last put fail.
     */
    private static void unmount(Path mountPoint) throws IOException {
        Commands.check(List.of("umount", "-l", mountPoint.toString()), null, COMMAND_TIMEOUT);
    }

    /**
     * Options that keep the upper directory a complete, self-contained diff:
     * no index (a layer may be mounted on another chain later), no metacopy
     * (copy-up copies data), no redirects (a renamed directory is copied, and
     * a redirect xattr smuggled in by a layer tar is not followed). Only those
     * the running kernel knows.
     */
    private static String fixedOptions() {
        StringBuilder options = new StringBuilder();
        for (String[] option : new String[][] {{"index", "off"}, {"metacopy", "off"}, {"redirect_dir", "nofollow"}}) {
            if (Files.exists(OVERLAY_PARAMETERS.resolve(option[0]))) {
                options.append(option[0]).append('=').append(option[1]).append(',');
            }
        }
        return options.toString();
    }

    // --- mount counts --------------------------------------------------------------------------

    /** {@code <id>/mounts} holds "{@code <count> <boot id>}"; a count from another boot is 0. */
    private int readCount(String id) throws IOException {
        String record = DiskFiles.readOrNull(root.resolve(id).resolve("mounts"));
        if (record == null || record.isEmpty()) {
            return 0;
        }
        String[] fields = record.split("\\s+");
        if (fields.length < 2 || !fields[1].equals(bootId)) {
            return 0;
        }
        try {
            return Math.max(0, Integer.parseInt(fields[0]));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private void writeCount(String id, int count) throws IOException {
        Path file = root.resolve(id).resolve("mounts");
        if (count <= 0) {
            Files.deleteIfExists(file);
        } else {
            DiskFiles.writeAtomicallyOwnerOnly(file, count + " " + bootId + "\n");
        }
    }

    // --- start-up ------------------------------------------------------------------------------

    /**
     * Brings the directory to a consistent state: half-made and half-removed
     * layers go, links are repaired, counts of mounts that no longer exist are
     * reset and mounts nobody counted are unmounted. Mounts that are counted
     * are left alone: containers run on them.
     */
    private void recover() throws IOException {
        MountTable mounts = MountTable.read();
        List<Path> layerDirs = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (name.startsWith(STAGING) || name.startsWith(REMOVING) || name.startsWith(PROBE)) {
                    for (Path point : mounts.below(entry)) {
                        unmount(point);
                    }
                    DiskFiles.deleteTree(entry);
                } else if (isValidId(name) && Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                    layerDirs.add(entry);
                }
            }
        }
        for (Path dir : layerDirs) {
            String id = dir.getFileName().toString();
            Path merged = dir.resolve("merged");
            boolean mounted = mounts.isMountPoint(merged);
            boolean overlaid = DiskFiles.readOrNull(dir.resolve("lower")) != null;
            int count = readCount(id);
            if (count > 0 && overlaid && !mounted) {
                writeCount(id, 0); // the mount went away (reboot, manual umount)
            } else if (count == 0) {
                if (mounted) {
                    unmount(merged); // mounted, but the crash came before the count was written
                }
                Files.deleteIfExists(dir.resolve("mounts")); // a count from an earlier boot
            }
            String shortName = DiskFiles.readOrNull(dir.resolve("link"));
            if (shortName != null && isValidShortName(shortName)) {
                Path link = links.resolve(shortName);
                if (!Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
                    Files.createSymbolicLink(link, Path.of("..", id, "diff"));
                }
            }
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(links)) {
            for (Path link : entries) {
                if (!Files.exists(link)) {
                    Files.deleteIfExists(link); // its layer never finished or is gone
                }
            }
        }
    }

    /** Mounts a tiny overlay below the root once, the way layers will be mounted. */
    private DriverStatus probe() {
        String fsType = "unknown";
        try {
            fsType = Files.getFileStore(root).type();
        } catch (IOException | RuntimeException e) {
            // reported as unknown
        }
        Path probe = root.resolve(PROBE + Long.toHexString(random.nextLong() & Long.MAX_VALUE));
        String failure = null;
        try {
            Files.createDirectories(probe.resolve("lower"));
            Files.createDirectories(probe.resolve("upper"));
            Files.createDirectories(probe.resolve("work"));
            Files.createDirectories(probe.resolve("merged"));
            Files.writeString(probe.resolve("lower/probe"), "probe");
            String name = probe.getFileName().toString();
            Commands.Result result = Commands.run(List.of("mount", "-t", "overlay", "overlay", "-o",
                    fixedOptions + "lowerdir=" + name + "/lower,upperdir=" + name + "/upper,workdir=" + name + "/work",
                    name + "/merged"), root, COMMAND_TIMEOUT);
            if (result.exitCode() != 0) {
                failure = result.message();
            } else {
                try {
                    if (!Files.exists(probe.resolve("merged/probe"))) {
                        failure = "the overlay mount does not show its lower directory";
                    }
                } finally {
                    unmount(probe.resolve("merged"));
                }
            }
        } catch (IOException | RuntimeException e) {
            failure = e.getMessage() == null ? e.toString() : e.getMessage();
        } finally {
            try {
                DiskFiles.deleteTree(probe);
            } catch (IOException e) {
                if (failure == null) {
                    failure = "cannot remove the probe " + probe + ": " + e;
                }
            }
        }
        if (failure != null) {
            return DriverStatus.unsupported("overlay cannot mount on " + fsType + " at " + root + ": " + failure);
        }
        Map<String, String> details = new LinkedHashMap<>();
        details.put("Root", root.toString());
        details.put("Backing Filesystem", fsType);
        details.put("Supports d_type", Boolean.toString(supportsDType(fsType)));
        details.put("Native Overlay Diff", "true");
        return DriverStatus.active(details);
    }

    /**
     * Whether the backing filesystem fills in d_type, which overlay needs to
     * see whiteouts. Java cannot read d_type; these filesystems always fill
     * it in (xfs since ftype=1 became the default).
     */
    private static boolean supportsDType(String fsType) {
        return Set.of("ext4", "ext3", "ext2", "btrfs", "xfs", "tmpfs", "f2fs", "zfs").contains(fsType);
    }

    // --- helpers -------------------------------------------------------------------------------

    private void requireUsable() throws IOException {
        if (!status.isActive()) {
            throw new IOException("the overlay2 driver is " + status.state() + ": " + status.reason());
        }
    }

    private Object lock(String id) {
        return layerLocks.computeIfAbsent(id, key -> new Object());
    }

    /** Some layer whose parent is {@code id}, or {@code null}. */
    private String childOf(String id) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (isValidId(name) && id.equals(DiskFiles.readOrNull(entry.resolve("parent")))) {
                    return name;
                }
            }
        }
        return null;
    }

    private String newShortName() {
        while (true) {
            char[] name = new char[SHORT_NAME_LENGTH];
            for (int i = 0; i < name.length; i++) {
                name[i] = BASE32[random.nextInt(BASE32.length)];
            }
            String candidate = new String(name);
            if (!Files.exists(links.resolve(candidate), LinkOption.NOFOLLOW_LINKS)) {
                return candidate;
            }
        }
    }

    private static boolean isValidShortName(String name) {
        return name.matches("[A-Z2-7]{1,64}");
    }

    /** Ids are opaque but must be one safe path segment; {@code l} is where the short links live. */
    private static boolean isValidId(String id) {
        return LayerIds.isValid(id) && !id.equals(LINK_DIR);
    }

    private Path layer(String id) {
        if (LayerIds.requireValid(id).equals(LINK_DIR)) {
            throw new IllegalArgumentException("invalid layer id: " + id);
        }
        return root.resolve(id);
    }

    private Path existing(String id) throws LayerNotFoundException {
        return LayerIds.requireExisting(layer(id), id);
    }

    private static String readBootId() {
        try {
            return Files.readString(BOOT_ID, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            return "unknown-boot";
        }
    }
}
