package io.berth.storage.btrfs;

import io.berth.spi.driver.DriverStatus;
import io.berth.spi.storage.LayerNotFoundException;
import io.berth.spi.storage.StorageCapability;
import io.berth.spi.storage.StorageDriver;
import io.berth.storage.support.Commands;
import io.berth.storage.support.DiskFiles;
import io.berth.storage.support.Host;
import io.berth.storage.support.LayerIds;
import io.berth.storage.support.SnapshotUsage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Docker's btrfs driver: a btrfs subvolume per layer, {@code <root>/subvolumes/<id>}.
 * A base layer is a new subvolume ({@code btrfs subvolume create}); a child is a
 * snapshot of its parent ({@code btrfs subvolume snapshot}), so it shares every
 * unchanged block with it and creating one costs the same for any depth.
 *
 * <p>Choices, and why:
 * <ul>
 * <li>Read-only layers are writable snapshots, as in Docker: the layer store
 *     writes an image layer's content into it after {@link #create}, and a
 *     read-only snapshot cannot have children snapshotted writable without a
 *     property flip per create. Nothing but the layer store writes image layers.</li>
 * <li>No mounts: a subvolume is a directory of the already mounted filesystem,
 *     so {@link #get} returns it. {@link #get}/{@link #put} calls are still
 *     counted, in {@code <root>/refs/<id>} (written atomically), so a new driver
 *     instance after a bundle update still refuses to remove a layer in use.</li>
 * <li>The parent of each layer is recorded in {@code <root>/parents/<id>}
 *     (atomically, before the layer appears); a layer that another layer has as
 *     parent cannot be removed.</li>
 * <li>Crash safety: a layer is snapshotted into {@code .staging-<id>} and renamed
 *     into place, and removed by renaming it to {@code .removing-<id>} first; a
 *     leftover of either is deleted by the next attempt on the same id and by
 *     the next driver instance. Records of layers that do not exist are ignored.</li>
 * <li>Subvolumes that a container created inside its layer (the inode of a
 *     subvolume root is 256) are deleted first, deepest first, as Docker does;
 *     snapshots do not include nested subvolumes, so children of such a layer
 *     see an empty directory there.</li>
 * <li>{@link #usage}: btrfs quota groups are usually off, and {@code btrfs
 *     filesystem du} counts only unshared extents (a layer's usage would drop to
 *     0 as soon as it has a child). Instead usage is what Docker reports as a
 *     layer's size ({@link SnapshotUsage}).</li>
 * </ul>
 *
 * <p>The driver uses btrfs-progs (the {@code btrfs} command, with bounded
 * waits). When the root is not on btrfs or btrfs-progs is missing, constructing
 * it writes nothing, {@link #status()} says why it is unsupported and every
 * write is refused with that reason. Otherwise the constructor makes its
 * directories and sweeps the leftovers of creates and removals that a crash
 * cut short, so only one driver instance may use a root at a time (the
 * engine's data-root lock ensures it).
 */
public final class BtrfsStorageDriver implements StorageDriver {

    public static final String NAME = "btrfs";

    private static final String STAGING = ".staging-";
    private static final String REMOVING = ".removing-";
    /** The inode number of every subvolume's root directory (BTRFS_FIRST_FREE_OBJECTID). */
    private static final long SUBVOLUME_ROOT_INODE = 256;
    private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration DELETE_TIMEOUT = Duration.ofMinutes(10);

    private final Path root;
    private final Path subvolumes;
    /** {@code parents/<id>} holds the id of the layer's parent (empty for a base layer). */
    private final Path parents;
    /** {@code refs/<id>} holds the number of outstanding {@link #get} calls; absent when 0. */
    private final Path refs;
    private final Object lock = new Object();
    /** Set once the directories exist and leftovers were swept; guarded by {@link #lock}. */
    private boolean prepared;
    private volatile String buildVersion;
    /** Finds the {@code btrfs} command; {@code null} when btrfs-progs is missing. */
    private final Supplier<String> btrfsLocator;

    public BtrfsStorageDriver(Path root) {
        this(root, BtrfsStorageDriver::btrfsCommand);
    }

    /** For tests: a driver that finds the {@code btrfs} command with {@code btrfsLocator}. */
    BtrfsStorageDriver(Path root, Supplier<String> btrfsLocator) {
        this.btrfsLocator = btrfsLocator;
        this.root = root.toAbsolutePath().normalize();
        this.subvolumes = this.root.resolve("subvolumes");
        this.parents = this.root.resolve("parents");
        this.refs = this.root.resolve("refs");
        if (unsupportedReason() == null) {
            try {
                synchronized (lock) {
                    prepare();
                }
            } catch (IOException | RuntimeException e) {
                // status() reports what is wrong; the driver is registered either way.
            }
        }
    }

    public Path root() {
        return root;
    }

    // --- status ---------------------------------------------------------------------------------

    @Override
    public DriverStatus status() {
        try {
            String reason = unsupportedReason();
            if (reason != null) {
                return DriverStatus.unsupported(reason);
            }
            return DriverStatus.active(Map.of(
                    "Root", root.toString(),
                    "Backing Filesystem", "btrfs",
                    "Build Version", buildVersion()));
        } catch (IOException | RuntimeException e) {
            return DriverStatus.failed(e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    /** Why this driver cannot work here, or {@code null} when it can. */
    private String unsupportedReason() {
        Path existing = root;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return "data-root " + dataRoot() + " does not exist";
        }
        String type;
        try {
            type = Files.getFileStore(existing).type();
        } catch (IOException e) {
            return "cannot tell the filesystem of data-root " + dataRoot() + ": " + e.getMessage();
        }
        if (!"btrfs".equals(type)) {
            return "data-root " + dataRoot() + " is not on btrfs (it is " + type + ")";
        }
        if (btrfsLocator.get() == null) {
            return "btrfs-progs is not installed";
        }
        return null;
    }

    private Path dataRoot() {
        return root.getParent() == null ? root : root.getParent();
    }

    private String buildVersion() throws IOException {
        String version = buildVersion;
        if (version == null) {
            version = run(COMMAND_TIMEOUT, "--version").trim();
            buildVersion = version;
        }
        return version;
    }

    /** The absolute path of the {@code btrfs} command, or {@code null} when btrfs-progs is missing. */
    private static String btrfsCommand() {
        return Commands.locate("btrfs");
    }

    @Override
    public Set<StorageCapability> capabilities() {
        // Snapshots share blocks whoever makes them; xattrs and device nodes need root.
        return Host.isRoot() ? EnumSet.of(StorageCapability.PRIVILEGED_XATTRS, StorageCapability.DEVICE_NODES,
                StorageCapability.COPY_ON_WRITE) : EnumSet.of(StorageCapability.COPY_ON_WRITE);
    }

    // --- layers ---------------------------------------------------------------------------------

    @Override
    public void create(String id, String parent) throws IOException {
        Path dir = layer(id);
        Path from = parent == null ? null : layer(parent);
        synchronized (lock) {
            ready();
            if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw new FileAlreadyExistsException(dir.toString(), null, "layer " + id + " already exists");
            }
            if (from != null && !Files.isDirectory(from, LinkOption.NOFOLLOW_LINKS)) {
                throw new LayerNotFoundException(parent);
            }
            Path staging = subvolumes.resolve(STAGING + id);
            deleteLayerTree(staging); // left by a create of the same id that was killed half-way
            try {
                if (from == null) {
                    run(COMMAND_TIMEOUT, "subvolume", "create", staging.toString());
                } else {
                    run(COMMAND_TIMEOUT, "subvolume", "snapshot", from.toString(), staging.toString());
                }
                // The records are written first, so a layer never exists without them.
                DiskFiles.writeAtomically(parents.resolve(id), parent == null ? "" : parent);
                Files.deleteIfExists(refs.resolve(id));
                Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
                DiskFiles.syncDirectory(subvolumes);
            } catch (IOException | RuntimeException e) {
                try {
                    deleteLayerTree(staging);
                } catch (IOException cleanup) {
                    e.addSuppressed(cleanup);
                }
                throw e;
            }
        }
    }

    @Override
    public void createReadWrite(String id, String parent) throws IOException {
        create(id, parent);
    }

    @Override
    public Path get(String id) throws IOException {
        Path dir = layer(id);
        synchronized (lock) {
            existing(id);
            int count = references(id);
            DiskFiles.writeAtomically(refs.resolve(id), Integer.toString(count + 1));
        }
        return dir;
    }

    @Override
    public void put(String id) throws IOException {
        layer(id);
        synchronized (lock) {
            existing(id);
            int count = references(id);
            if (count <= 1) {
                Files.deleteIfExists(refs.resolve(id));
            } else {
                DiskFiles.writeAtomically(refs.resolve(id), Integer.toString(count - 1));
            }
        }
    }

    @Override
    public boolean exists(String id) {
        return LayerIds.isValid(id) && Files.isDirectory(subvolumes.resolve(id), LinkOption.NOFOLLOW_LINKS);
    }

    @Override
    public void remove(String id) throws IOException {
        layer(id);
        synchronized (lock) {
            Path dir = existing(id);
            ready();
            int count = references(id);
            if (count > 0) {
                throw new IOException("layer " + id + " is in use (" + count + " references)");
            }
            String child = childOf(id);
            if (child != null) {
                throw new IOException("layer " + id + " is the parent of layer " + child);
            }
            Path doomed = subvolumes.resolve(REMOVING + id);
            deleteLayerTree(doomed); // left by a removal of the same id that was killed half-way
            Files.move(dir, doomed, StandardCopyOption.ATOMIC_MOVE);
            DiskFiles.syncDirectory(subvolumes);
            Files.deleteIfExists(parents.resolve(id));
            Files.deleteIfExists(refs.resolve(id));
            deleteLayerTree(doomed);
        }
    }

    @Override
    public long usage(String id) throws IOException {
        Path dir = existing(id);
        String parent = parent(id);
        return SnapshotUsage.changedBytes(dir, parent == null ? null : subvolumes.resolve(parent));
    }

    @Override
    public String parent(String id) throws IOException {
        existing(id);
        Path record = parents.resolve(id);
        String parent;
        try {
            parent = Files.readString(record, StandardCharsets.UTF_8).trim();
        } catch (NoSuchFileException e) {
            parent = "";
        }
        return parent.isEmpty() ? null : parent;
    }

    // --- helpers --------------------------------------------------------------------------------

    /** Refuses writes where the driver cannot work, then makes its directories. Holds {@link #lock}. */
    private void ready() throws IOException {
        String reason = unsupportedReason();
        if (reason != null) {
            throw new IOException("btrfs storage driver is unsupported here: " + reason);
        }
        prepare();
    }

    /** Makes the driver's directories and sweeps what crashed creates and removals left. Holds {@link #lock}. */
    private void prepare() throws IOException {
        if (prepared) {
            return;
        }
        Files.createDirectories(subvolumes);
        Files.createDirectories(parents);
        Files.createDirectories(refs);
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(subvolumes,
                entry -> entry.getFileName().toString().startsWith("."))) {
            for (Path leftover : entries) {
                String name = leftover.getFileName().toString();
                if (name.startsWith(STAGING) || name.startsWith(REMOVING)) {
                    deleteLayerTree(leftover);
                }
            }
        }
        prepared = true;
    }

    private int references(String id) throws IOException {
        try {
            String count = Files.readString(refs.resolve(id), StandardCharsets.UTF_8).trim();
            return count.isEmpty() ? 0 : Integer.parseInt(count);
        } catch (NoSuchFileException e) {
            return 0;
        } catch (NumberFormatException e) {
            throw new IOException("reference count of layer " + id + " is corrupt: " + e.getMessage(), e);
        }
    }

    /** Some existing layer whose parent is {@code id}, or {@code null}. */
    private String childOf(String id) throws IOException {
        try (DirectoryStream<Path> records = Files.newDirectoryStream(parents)) {
            for (Path record : records) {
                String child = record.getFileName().toString();
                if (!LayerIds.isValid(child) || !exists(child)) {
                    continue; // a temp file, or the record of a layer whose create or remove was cut short
                }
                if (id.equals(Files.readString(record, StandardCharsets.UTF_8).trim())) {
                    return child;
                }
            }
        }
        return null;
    }

    private Path layer(String id) {
        return subvolumes.resolve(LayerIds.requireValid(id));
    }

    private Path existing(String id) throws LayerNotFoundException {
        return LayerIds.requireExisting(layer(id), id);
    }

    /**
     * Deletes a layer's subvolume and every subvolume created inside it, deepest
     * first; a plain directory (a staging folder that never became a subvolume) is
     * deleted file by file.
     */
    private void deleteLayerTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        List<Path> nested = new ArrayList<>();
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult postVisitDirectory(Path directory, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                if (!directory.equals(dir) && isSubvolume(directory)) {
                    nested.add(directory); // post-order: children before the subvolumes holding them
                }
                return FileVisitResult.CONTINUE;
            }
        });
        for (Path subvolume : nested) {
            run(DELETE_TIMEOUT, "subvolume", "delete", subvolume.toString());
        }
        if (isSubvolume(dir)) {
            run(DELETE_TIMEOUT, "subvolume", "delete", dir.toString());
        } else {
            DiskFiles.deleteTree(dir);
        }
    }

    private static boolean isSubvolume(Path dir) throws IOException {
        BasicFileAttributes attrs = Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        return attrs.isDirectory()
                && ((Number) Files.getAttribute(dir, "unix:ino", LinkOption.NOFOLLOW_LINKS)).longValue()
                        == SUBVOLUME_ROOT_INODE;
    }

    /**
     * Runs {@code btrfs <args>} with a bounded wait and returns its standard
     * output; a failure or a timeout is an exception carrying what it printed.
     */
    private String run(Duration timeout, String... args) throws IOException {
        String btrfs = btrfsLocator.get();
        if (btrfs == null) {
            throw new IOException("btrfs-progs is not installed");
        }
        List<String> command = new ArrayList<>();
        command.add(btrfs);
        command.addAll(List.of(args));
        return Commands.check(command, null, timeout);
    }
}
