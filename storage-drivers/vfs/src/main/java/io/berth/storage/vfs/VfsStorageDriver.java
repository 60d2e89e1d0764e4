package io.berth.storage.vfs;

import io.berth.spi.driver.DriverStatus;
import io.berth.spi.storage.LayerNotFoundException;
import io.berth.spi.storage.StorageDriver;
import io.berth.spi.storage.StorageCapability;
import io.berth.storage.support.Commands;
import io.berth.storage.support.DiskFiles;
import io.berth.storage.support.Host;
import io.berth.storage.support.LayerIds;
import java.io.IOException;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The simplest storage driver: each layer is a full copy of its parent in a
 * plain directory, {@code <root>/dir/<id>}. Copies are made with
 * {@code cp -a --reflink=auto}, which keeps owners, modes, times, xattrs,
 * device nodes and hard links, and shares blocks on filesystems that can
 * (btrfs, xfs). Works on any filesystem; costs disk and time per layer.
 */
public final class VfsStorageDriver implements StorageDriver {

    public static final String NAME = "vfs";
    /** The longest a copy of one layer may take. */
    private static final Duration COPY_TIMEOUT = Duration.ofHours(1);

    private final Path root;
    private final Path layers;
    /** {@code parents/<id>} holds the id of the layer's parent (empty for a base layer). */
    private final Path parents;
    /** Outstanding {@link #get} calls per layer; vfs needs no mount, but must refuse to remove a layer in use. */
    private final Map<String, Integer> references = new ConcurrentHashMap<>();

    public VfsStorageDriver(Path root) throws IOException {
        this.root = root;
        this.layers = root.resolve("dir");
        this.parents = root.resolve("parents");
        Files.createDirectories(layers);
        Files.createDirectories(parents);
    }

    @Override
    public DriverStatus status() {
        try {
            return DriverStatus.active(Map.of(
                    "Root", root.toString(),
                    "Backing Filesystem", Files.getFileStore(layers).type()));
        } catch (IOException e) {
            return DriverStatus.failed("cannot read " + layers + ": " + e.getMessage());
        }
    }

    @Override
    public void create(String id, String parent) throws IOException {
        Path dir = layer(id);
        if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(dir.toString(), null, "layer " + id + " already exists");
        }
        Path staging = layers.resolve(".staging-" + id);
        DiskFiles.deleteTree(staging);
        if (parent == null) {
            Files.createDirectory(staging);
            Files.setPosixFilePermissions(staging, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        } else {
            Path from = existing(parent);
            copyTree(from, staging);
        }
        // A layer appears whole or not at all: a crash mid-copy leaves only a staging folder.
        // The parent record is written first, so a layer never exists without it.
        DiskFiles.writeAtomically(parents.resolve(id), parent == null ? "" : parent);
        Files.move(staging, dir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    @Override
    public void createReadWrite(String id, String parent) throws IOException {
        create(id, parent);
    }

    @Override
    public Path get(String id) throws IOException {
        Path dir = existing(id);
        references.merge(id, 1, Integer::sum);
        return dir;
    }

    @Override
    public void put(String id) throws IOException {
        existing(id);
        references.computeIfPresent(id, (key, count) -> count <= 1 ? null : count - 1);
    }

    @Override
    public boolean exists(String id) {
        return LayerIds.isValid(id) && Files.isDirectory(layers.resolve(id), LinkOption.NOFOLLOW_LINKS);
    }

    @Override
    public void remove(String id) throws IOException {
        Path dir = existing(id);
        if (references.containsKey(id)) {
            throw new IOException("layer " + id + " is in use (" + references.get(id) + " mounts)");
        }
        String child = childOf(id);
        if (child != null) {
            throw new IOException("layer " + id + " is the parent of layer " + child);
        }
        Path doomed = layers.resolve(".removing-" + id);
        DiskFiles.deleteTree(doomed); // left by a removal of the same id that was killed half-way
        Files.move(dir, doomed, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        Files.deleteIfExists(parents.resolve(id));
        DiskFiles.deleteTree(doomed);
    }

    @Override
    public long usage(String id) throws IOException {
        return DiskFiles.sizeOfContent(existing(id));
    }

    @Override
    public String parent(String id) throws IOException {
        existing(id);
        Path record = parents.resolve(id);
        String parent = Files.exists(record) ? Files.readString(record, StandardCharsets.UTF_8).trim() : "";
        return parent.isEmpty() ? null : parent;
    }

    @Override
    public Set<StorageCapability> capabilities() {
        // cp -a keeps every xattr and device node when it runs as root.
        return Host.isRoot() ? EnumSet.of(StorageCapability.PRIVILEGED_XATTRS, StorageCapability.DEVICE_NODES)
                : EnumSet.noneOf(StorageCapability.class);
    }

    /** Some layer whose parent is {@code id}, or {@code null}. */
    private String childOf(String id) throws IOException {
        try (Stream<Path> records = Files.list(parents)) {
            for (Path record : (Iterable<Path>) records::iterator) {
                if (id.equals(Files.readString(record, StandardCharsets.UTF_8).trim())) {
                    return record.getFileName().toString();
                }
            }
        }
        return null;
    }

    private Path layer(String id) {
        return layers.resolve(LayerIds.requireValid(id));
    }

    private Path existing(String id) throws LayerNotFoundException {
        return LayerIds.requireExisting(layer(id), id);
    }

    private static void copyTree(Path from, Path to) throws IOException {
        Commands.Result cp = Commands.run(List.of("cp", "-a", "--reflink=auto", "--", from.toString(), to.toString()),
                null, COPY_TIMEOUT);
        if (cp.exitCode() != 0) {
            DiskFiles.deleteTree(to);
            throw new IOException("copying layer " + from + " failed: " + cp.message());
        }
    }
}
