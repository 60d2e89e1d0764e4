package io.berth.storage.devicemapper;

import io.berth.spi.driver.DriverStatus;
import io.berth.spi.storage.LayerNotFoundException;
import io.berth.spi.storage.StorageCapability;
import io.berth.spi.storage.StorageDriver;
import io.berth.storage.support.Commands;
import io.berth.storage.support.Host;
import io.berth.storage.support.LayerIds;
import io.berth.storage.support.MountTable;
import io.berth.storage.support.SnapshotUsage;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Docker's devicemapper driver on dm-thin: one thin pool, a thin device per
 * layer with its own filesystem (ext4, or xfs), and each child layer a
 * snapshot of its parent's device, so it shares every unchanged block with it.
 *
 * <p>On disk, under the driver's root:
 * <pre>
 *   metadata.json          layer id -> thin device id, parent, size, references ({@link PoolRecord})
 *   devicemapper/data      with dm.loopback only: the pool's sparse data file (Docker's layout)
 *   devicemapper/metadata  with dm.loopback only: the pool's sparse metadata file
 *   mnt/ID/                where layer ID is mounted while it is in use; {@link #get} returns mnt/ID/rootfs
 * </pre>
 * Devices: the pool is {@code berth-HASH-pool} and layers are {@code berth-HASH-N}
 * (N the thin device id), HASH standing for the root, so two data-roots never share
 * names.
 *
 * <p>Choices, and why:
 * <ul>
 * <li>A layer's device is active and mounted only between its first {@link #get}
 *     and its last {@link #put}: an image of 40 layers then holds 1 device, not 40.
 *     Snapshotting an active device (a running container's layer) suspends it
 *     around the snapshot, as the kernel requires for consistency.</li>
 * <li>The pool errors when it runs out of data space ({@code error_if_no_space})
 *     instead of queueing writes for a minute: a full pool is a write error at
 *     once, and {@link #create} refuses new layers with the pool's figures.</li>
 * <li>Busy devices: a filesystem that will not unmount (a process still has a file
 *     open) is unmounted lazily and its device removed deferred, by the kernel once
 *     the last user closes it; a removed layer whose device cannot be deleted yet is
 *     remembered and deleted on later calls and at the next start.</li>
 * <li>Block zeroing is skipped ({@code skip_block_zeroing}) as in Docker: every
 *     device gets a filesystem first, which never reads blocks it did not write.</li>
 * <li>A pool the driver has no record of is new: its metadata device's superblock is
 *     zeroed so the kernel formats it. A pool it knows is {@code thin_check}ed before
 *     it is activated; a failed check leaves it inactive and the driver failed.</li>
 * </ul>
 *
 * <p>Outcomes: without dmsetup, thin-provisioning-tools or the mkfs of the chosen
 * filesystem, or without device-mapper in the kernel, the driver is unsupported and
 * says why; without a configured pool it is unconfigured; a pool that cannot be
 * activated makes it failed. In none of them does it write anything. Only one
 * driver instance may use a root at a time (the engine's data-root lock).
 */
public final class DeviceMapperStorageDriver implements StorageDriver {

    public static final String NAME = "devicemapper";
    /** The configuration PID (a {@code deploy/io.berth.storage.devicemapper.cfg}, for instance). */
    public static final String PID = "io.berth.storage.devicemapper";

    private static final System.Logger LOG = System.getLogger("berth.storage.devicemapper");
    private static final String LOOP_WARNING = "the pool is on loop-backed sparse files under " + "%s"
            + ": for trying devicemapper out only, not for production (slow, and the filesystem below can run out"
            + " of space under the pool); configure dm.datadev and dm.metadatadev with block devices instead";
    private static final long SECTOR = 512;
    /** The pool's allocation unit: 64 KiB, Docker's default. */
    private static final long BLOCK_SECTORS = 128;
    private static final long METADATA_BLOCK = 4096;
    private static final String ROOTFS = "rootfs";

    private final Path root;
    private final PoolOptions options;
    private final Path recordFile;
    private final Path mounts;
    private final String prefix;
    private final String pool;
    private final Object lock = new Object();

    private final DeviceMapper dm;
    private final String unsupported;
    /** Guarded by {@link #lock}; {@code null} until the pool is active. */
    private PoolRecord record;
    /** Why the pool could not be activated, or {@code null}; guarded by {@link #lock}. */
    private String failure;
    private Path dataDevice;
    private Path metadataDevice;
    /**
     * The devices of this pool that are active, kept here rather than asked for
     * each time (a process per question adds up over a 130-layer image);
     * guarded by {@link #lock}.
     */
    private final Set<String> active = new HashSet<>();

    /**
     * A driver rooted at {@code root} with the pool {@code options}. Where it can
     * work and is configured, this activates the pool (attaching the loop files
     * first) and re-mounts the layers that were in use.
     */
    public DeviceMapperStorageDriver(Path root, PoolOptions options) {
        this.root = root.toAbsolutePath().normalize();
        this.options = options;
        this.recordFile = this.root.resolve("metadata.json");
        this.mounts = this.root.resolve("mnt");
        this.prefix = "berth-" + shortHash(this.root.toString());
        this.pool = prefix + "-pool";
        this.dm = DeviceMapper.locate();
        this.unsupported = unsupportedReason(dm, options);
        if (unsupported == null && options.configured()) {
            synchronized (lock) {
                try {
                    activate();
                } catch (IOException | RuntimeException e) {
                    failure = e.getMessage() == null ? e.toString() : e.getMessage();
                    LOG.log(System.Logger.Level.ERROR, "devicemapper pool " + pool + " cannot be used: " + failure, e);
                }
            }
        }
    }

    public Path root() {
        return root;
    }

    /** The name of the pool's device-mapper device. */
    public String poolName() {
        return pool;
    }

    // --- status ---------------------------------------------------------------------------------

    @Override
    public DriverStatus status() {
        if (unsupported != null) {
            return DriverStatus.unsupported(unsupported);
        }
        if (!options.configured()) {
            return DriverStatus.unconfigured("no thin pool configured: set dm.datadev and dm.metadatadev (or "
                    + "dm.loopback=true to try it out) in configuration " + PID);
        }
        synchronized (lock) {
            if (failure != null) {
                return DriverStatus.failed(failure);
            }
            try {
                return DriverStatus.active(details());
            } catch (IOException | RuntimeException e) {
                return DriverStatus.failed("pool " + pool + ": " + e.getMessage());
            }
        }
    }

    /** Docker's {@code docker info} figures for the pool. Holds {@link #lock}. */
    private Map<String, String> details() throws IOException {
        PoolUsage usage = PoolUsage.parse(dm.status(pool));
        Map<String, String> details = new LinkedHashMap<>();
        details.put("Pool Name", pool);
        details.put("Pool Blocksize", bytes(BLOCK_SECTORS * SECTOR));
        details.put("Base Device Size", bytes(options.baseSize()));
        details.put("Backing Filesystem", options.filesystem());
        details.put("Data file", dataDevice.toString());
        details.put("Metadata file", metadataDevice.toString());
        if (options.loopback()) {
            details.put("Data loop file", root.resolve("devicemapper/data").toString());
            details.put("Metadata loop file", root.resolve("devicemapper/metadata").toString());
            details.put("Warning", String.format(LOOP_WARNING, root.resolve("devicemapper")));
        }
        long blockBytes = BLOCK_SECTORS * SECTOR;
        details.put("Data Space Used", bytes(usage.usedDataBlocks() * blockBytes));
        details.put("Data Space Total", bytes(usage.totalDataBlocks() * blockBytes));
        details.put("Data Space Available", bytes((usage.totalDataBlocks() - usage.usedDataBlocks()) * blockBytes));
        details.put("Metadata Space Used", bytes(usage.usedMetadataBlocks() * METADATA_BLOCK));
        details.put("Metadata Space Total", bytes(usage.totalMetadataBlocks() * METADATA_BLOCK));
        details.put("Metadata Space Available",
                bytes((usage.totalMetadataBlocks() - usage.usedMetadataBlocks()) * METADATA_BLOCK));
        details.put("Pool Mode", usage.mode());
        details.put("Layers", Integer.toString(record.layers.size()));
        details.put("Deferred Deletions", Integer.toString(record.deferredDeletes.size()));
        return details;
    }

    /** What the pool's data space looks like now (for tests and the benchmark). */
    public PoolUsage poolUsage() throws IOException {
        synchronized (lock) {
            ready();
            return PoolUsage.parse(dm.status(pool));
        }
    }

    private static String unsupportedReason(DeviceMapper dm, PoolOptions options) {
        String kernel = DeviceMapper.kernelUnsupportedReason();
        if (kernel != null) {
            return kernel;
        }
        if (dm == null) {
            return "dmsetup is not installed (Debian package dmsetup)";
        }
        if (Commands.locate("thin_check") == null) {
            return "thin_check is not installed (Debian package thin-provisioning-tools)";
        }
        String mkfs = "mkfs." + options.filesystem();
        if (Commands.locate(mkfs) == null) {
            return mkfs + " is not installed (Debian package " + ("xfs".equals(options.filesystem())
                    ? "xfsprogs" : "e2fsprogs") + ")";
        }
        if (options.loopback() && Commands.locate("losetup") == null) {
            return "losetup is not installed (Debian package mount)";
        }
        return null;
    }

    @Override
    public Set<StorageCapability> capabilities() {
        // Snapshots share blocks; ext4 and xfs keep trusted.* xattrs and device nodes for root.
        return Host.isRoot() ? EnumSet.of(StorageCapability.PRIVILEGED_XATTRS, StorageCapability.DEVICE_NODES,
                StorageCapability.COPY_ON_WRITE) : EnumSet.of(StorageCapability.COPY_ON_WRITE);
    }

    // --- the pool -------------------------------------------------------------------------------

    /** Attaches the devices, activates the pool and re-adopts the layers in use. Holds {@link #lock}. */
    private void activate() throws IOException {
        Files.createDirectories(mounts);
        PoolRecord known = PoolRecord.read(recordFile);
        if (options.loopback()) {
            Path dir = Files.createDirectories(root.resolve("devicemapper"));
            LOG.log(System.Logger.Level.WARNING, String.format(LOOP_WARNING, dir));
            boolean isNew = !Files.exists(dir.resolve("metadata"));
            dataDevice = Loop.attach(sparseFile(dir.resolve("data"), options.loopDataSize()), isNew);
            metadataDevice = Loop.attach(sparseFile(dir.resolve("metadata"), options.loopMetadataSize()), isNew);
        } else {
            dataDevice = requireBlockDevice(options.dataDevice(), "dm.datadev");
            metadataDevice = requireBlockDevice(options.metadataDevice(), "dm.metadatadev");
        }
        for (String name : dm.names()) {
            if (name.startsWith(prefix + "-")) {
                active.add(name);
            }
        }
        if (!active.contains(pool)) {
            if (known == null) {
                zeroSuperblock(metadataDevice); // a new pool: the kernel formats zeroed metadata
            } else {
                Commands.check(List.of(Commands.locate("thin_check"), "-q", metadataDevice.toString()), null,
                        DeviceMapper.TIMEOUT);
            }
            long dataSectors = BlockDevices.sectors(dataDevice);
            long blocks = dataSectors / BLOCK_SECTORS;
            if (blocks < 16) {
                throw new IOException("the data device " + dataDevice + " is too small for a pool");
            }
            long lowWater = Math.max(1, Math.min(32768, blocks / 20));
            dm.create(pool, "0 " + blocks * BLOCK_SECTORS + " thin-pool " + metadataDevice + " " + dataDevice + " "
                    + BLOCK_SECTORS + " " + lowWater + " 2 skip_block_zeroing error_if_no_space");
            active.add(pool);
        }
        record = known == null ? new PoolRecord() : known;
        if (known == null) {
            record.write(recordFile);
        }
        if (record.pendingDeviceId != null) { // a create that a crash cut short
            deleteFromPool(record.pendingDeviceId, true);
            record.pendingDeviceId = null;
            record.write(recordFile);
        }
        retryDeferredDeletes();
        for (Map.Entry<String, PoolRecord.Layer> entry : record.layers.entrySet()) {
            if (entry.getValue().refs() > 0) {
                mount(entry.getKey(), entry.getValue()); // still in use: mounted again after a reboot
            }
        }
    }

    /** Refuses any use of the pool unless it is active, with the reason. Holds {@link #lock}. */
    private void ready() throws IOException {
        if (unsupported != null) {
            throw new IOException("the devicemapper storage driver is unsupported here: " + unsupported);
        }
        if (!options.configured()) {
            throw new IOException("the devicemapper storage driver has no thin pool configured (configuration "
                    + PID + ")");
        }
        if (record == null) {
            throw new IOException("the devicemapper pool " + pool + " is not usable: " + failure);
        }
    }

    private static Path sparseFile(Path file, long size) throws IOException {
        try (RandomAccessFile sparse = new RandomAccessFile(file.toFile(), "rw")) {
            if (sparse.length() < size) {
                sparse.setLength(size); // a hole: only what the pool writes takes space
            }
        }
        return file;
    }

    private static Path requireBlockDevice(Path device, String option) throws IOException {
        if (!Files.exists(device)) {
            throw new IOException(option + " " + device + " does not exist");
        }
        if (!BlockDevices.isBlockDevice(device)) {
            throw new IOException(option + " " + device + " is not a block device");
        }
        return device;
    }

    private static void zeroSuperblock(Path device) throws IOException {
        try (FileChannel channel = FileChannel.open(device, StandardOpenOption.WRITE)) {
            ByteBuffer zeros = ByteBuffer.allocate((int) METADATA_BLOCK);
            while (zeros.hasRemaining()) {
                channel.write(zeros, zeros.position());
            }
            channel.force(true);
        }
    }

    /**
     * Deactivates the pool and every device of it, and detaches the loop
     * devices: what a reboot does. The layers stay; a new driver on the same
     * root brings them back. For tests and operators before maintenance.
     *
     * @throws IOException when a layer is still mounted or a device is busy
     */
    public void deactivate() throws IOException {
        synchronized (lock) {
            ready();
            for (Map.Entry<String, PoolRecord.Layer> entry : record.layers.entrySet()) {
                if (entry.getValue().refs() > 0) {
                    throw new IOException("layer " + entry.getKey() + " is in use (" + entry.getValue().refs()
                            + " references)");
                }
                if (!deactivateDevice(device(entry.getValue().deviceId()))) {
                    throw new IOException("the device of layer " + entry.getKey() + " is busy");
                }
            }
            if (!deactivateDevice(pool)) {
                throw new IOException("the pool " + pool + " is busy");
            }
            if (options.loopback()) {
                Loop.detach(dataDevice);
                Loop.detach(metadataDevice);
            }
            record = null;
            failure = "deactivated";
        }
    }

    /** The pool's metadata device, for {@code thin_check} while the pool is inactive. */
    public Path metadataDevice() {
        return metadataDevice;
    }

    /** The pool's data device. */
    public Path dataDevice() {
        return dataDevice;
    }

    // --- layers ---------------------------------------------------------------------------------

    @Override
    public void create(String id, String parent) throws IOException {
        LayerIds.requireValid(id);
        synchronized (lock) {
            ready();
            if (record.layers.containsKey(id)) {
                throw new FileAlreadyExistsException(id, null, "layer " + id + " already exists");
            }
            PoolRecord.Layer from = null;
            if (parent != null) {
                from = record.layers.get(parent);
                if (from == null) {
                    throw new LayerNotFoundException(parent);
                }
            }
            retryDeferredDeletes();
            if (from == null) {
                refuseWhenFull(); // a snapshot takes no data blocks until it is written
            }
            int deviceId = record.nextDeviceId;
            record.nextDeviceId++;
            record.pendingDeviceId = deviceId;
            record.write(recordFile);
            long size = from == null ? options.baseSize() : from.size();
            try {
                if (from == null) {
                    dm.message(pool, "create_thin " + deviceId);
                    makeFilesystem(deviceId, size);
                } else {
                    snapshot(deviceId, from.deviceId());
                }
            } catch (IOException | RuntimeException e) {
                try {
                    deleteFromPool(deviceId, true);
                    record.pendingDeviceId = null;
                    record.write(recordFile);
                } catch (IOException | RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
                throw e;
            }
            record.layers.put(id, new PoolRecord.Layer(deviceId, parent, size, 0));
            record.pendingDeviceId = null;
            record.write(recordFile);
        }
    }

    @Override
    public void createReadWrite(String id, String parent) throws IOException {
        create(id, parent);
    }

    /** A full pool (or one the kernel put in read-only or failed mode) takes no new layers. */
    private void refuseWhenFull() throws IOException {
        PoolUsage usage = PoolUsage.parse(dm.status(pool));
        if (!"rw".equals(usage.mode()) || usage.usedDataBlocks() >= usage.totalDataBlocks()) {
            throw new IOException("the devicemapper pool " + pool + " is " + ("rw".equals(usage.mode())
                    ? "full" : "in " + usage.mode() + " mode") + ": " + bytes(usage.usedDataBlocks() * BLOCK_SECTORS
                    * SECTOR) + " of " + bytes(usage.totalDataBlocks() * BLOCK_SECTORS * SECTOR)
                    + " data used; remove layers or extend the pool");
        }
    }

    /** A base layer's new device gets its filesystem, with the {@code rootfs} directory get returns. */
    private void makeFilesystem(int deviceId, long size) throws IOException {
        String name = device(deviceId);
        activateDevice(name, thinTable(deviceId, size));
        Path node = DeviceMapper.node(name);
        List<String> mkfs = "xfs".equals(options.filesystem())
                ? List.of(Commands.locate("mkfs.xfs"), "-q", "-K", node.toString())
                : List.of(Commands.locate("mkfs.ext4"), "-q", "-E", "nodiscard,lazy_itable_init=0,lazy_journal_init=0",
                        node.toString());
        Commands.check(mkfs, null, DeviceMapper.TIMEOUT);
        Path scratch = Files.createDirectories(mounts.resolve(".mkfs-" + deviceId));
        try {
            mountDevice(node, scratch);
            try {
                Files.createDirectory(scratch.resolve(ROOTFS));
            } finally {
                Commands.check(List.of("umount", scratch.toString()), null, DeviceMapper.TIMEOUT);
            }
        } finally {
            Files.deleteIfExists(scratch);
        }
        deactivateDevice(name);
    }

    /** A snapshot of {@code origin}; an active origin is suspended so the snapshot is consistent. */
    private void snapshot(int deviceId, int origin) throws IOException {
        String originName = device(origin);
        boolean originActive = active.contains(originName);
        if (originActive) {
            dm.suspend(originName); // flushes the filesystem's writes to the device first
        }
        try {
            dm.message(pool, "create_snap " + deviceId + " " + origin);
        } finally {
            if (originActive) {
                dm.resume(originName);
            }
        }
    }

    @Override
    public Path get(String id) throws IOException {
        LayerIds.requireValid(id);
        synchronized (lock) {
            ready();
            PoolRecord.Layer layer = existing(id);
            Path dir = mount(id, layer);
            record.layers.put(id, layer.withRefs(layer.refs() + 1));
            record.write(recordFile);
            return dir;
        }
    }

    /** Activates and mounts a layer's device unless it already is. Holds {@link #lock}. */
    private Path mount(String id, PoolRecord.Layer layer) throws IOException {
        Path point = mounts.resolve(id);
        if (!MountTable.read().isMountPoint(point)) {
            String name = device(layer.deviceId());
            activateDevice(name, thinTable(layer.deviceId(), layer.size()));
            Files.createDirectories(point);
            mountDevice(DeviceMapper.node(name), point);
        }
        return point.resolve(ROOTFS);
    }

    private void mountDevice(Path node, Path point) throws IOException {
        List<String> mount = new ArrayList<>(List.of("mount", "-t", options.filesystem()));
        if ("xfs".equals(options.filesystem())) {
            mount.addAll(List.of("-o", "nouuid")); // a snapshot has its origin's filesystem uuid
        }
        mount.addAll(List.of(node.toString(), point.toString()));
        Commands.check(mount, null, DeviceMapper.TIMEOUT);
    }

    @Override
    public void put(String id) throws IOException {
        LayerIds.requireValid(id);
        synchronized (lock) {
            ready();
            PoolRecord.Layer layer = existing(id);
            if (layer.refs() <= 0) {
                throw new IOException("layer " + id + " is not mounted");
            }
            record.layers.put(id, layer.withRefs(layer.refs() - 1));
            record.write(recordFile);
            if (layer.refs() == 1) {
                unmount(id, layer);
            }
        }
    }

    /**
     * Unmounts a layer and deactivates its device. A busy filesystem is
     * detached lazily and its device removed when the last user lets go.
     */
    private void unmount(String id, PoolRecord.Layer layer) throws IOException {
        Path point = mounts.resolve(id);
        if (MountTable.read().isMountPoint(point)) {
            Commands.Result result = Commands.run(List.of("umount", point.toString()), null, DeviceMapper.TIMEOUT);
            if (result.exitCode() != 0) {
                LOG.log(System.Logger.Level.WARNING, "layer " + id + " is busy (" + result.message()
                        + "): unmounting it lazily, its device goes when the last user lets go");
                Commands.check(List.of("umount", "-l", point.toString()), null, DeviceMapper.TIMEOUT);
            }
        }
        deactivateDevice(device(layer.deviceId()));
        Files.deleteIfExists(point);
    }

    /** Activates a device unless it is active. Holds {@link #lock}. */
    private void activateDevice(String name, String table) throws IOException {
        if (active.contains(name)) {
            return;
        }
        try {
            dm.create(name, table);
        } catch (IOException e) {
            if (!dm.names().contains(name)) { // not one whose deferred removal is still pending
                throw e;
            }
        }
        active.add(name);
    }

    /**
     * Deactivates a device; a busy one goes when its last user lets go. Holds {@link #lock}.
     *
     * @return whether it is gone now
     */
    private boolean deactivateDevice(String name) throws IOException {
        active.remove(name);
        return dm.remove(name);
    }

    @Override
    public boolean exists(String id) {
        if (!LayerIds.isValid(id)) {
            return false;
        }
        synchronized (lock) {
            return record != null && record.layers.containsKey(id);
        }
    }

    @Override
    public void remove(String id) throws IOException {
        LayerIds.requireValid(id);
        synchronized (lock) {
            ready();
            PoolRecord.Layer layer = existing(id);
            if (layer.refs() > 0) {
                throw new IOException("layer " + id + " is in use (" + layer.refs() + " references)");
            }
            for (Map.Entry<String, PoolRecord.Layer> other : record.layers.entrySet()) {
                if (id.equals(other.getValue().parent())) {
                    throw new IOException("layer " + id + " is the parent of layer " + other.getKey());
                }
            }
            unmount(id, layer); // a mount or an active device left by a crash
            record.layers.remove(id);
            if (!deleteFromPool(layer.deviceId(), false)) {
                record.deferredDeletes.add(layer.deviceId());
            }
            record.write(recordFile);
        }
    }

    /**
     * Deletes a thin device from the pool, which frees its blocks.
     *
     * @param gone whether a device that the pool does not know counts as deleted
     * @return whether it was deleted; {@code false} while its device is still open
     */
    private boolean deleteFromPool(int deviceId, boolean gone) throws IOException {
        if (active.contains(device(deviceId)) && !deactivateDevice(device(deviceId))) {
            return false;
        }
        try {
            dm.message(pool, "delete " + deviceId);
            return true;
        } catch (IOException e) {
            if (gone) {
                return true; // never created: a crash came before create_thin
            }
            LOG.log(System.Logger.Level.WARNING, "thin device " + deviceId + " cannot be deleted yet: " + e.getMessage());
            return false;
        }
    }

    /** Deletes the devices of removed layers that were busy then. Holds {@link #lock}. */
    private void retryDeferredDeletes() throws IOException {
        if (record.deferredDeletes.isEmpty()) {
            return;
        }
        List<Integer> still = new ArrayList<>();
        for (int deviceId : record.deferredDeletes) {
            if (!deleteFromPool(deviceId, false)) {
                still.add(deviceId);
            }
        }
        record.deferredDeletes = still;
        record.write(recordFile);
    }

    @Override
    public long usage(String id) throws IOException {
        String parent = parent(id);
        Path dir = get(id);
        try {
            if (parent == null) {
                return SnapshotUsage.changedBytes(dir, null);
            }
            Path parentDir = get(parent);
            try {
                return SnapshotUsage.changedBytes(dir, parentDir);
            } finally {
                put(parent);
            }
        } finally {
            put(id);
        }
    }

    @Override
    public String parent(String id) throws IOException {
        LayerIds.requireValid(id);
        synchronized (lock) {
            ready();
            return existing(id).parent();
        }
    }

    // --- helpers --------------------------------------------------------------------------------

    private PoolRecord.Layer existing(String id) throws LayerNotFoundException {
        PoolRecord.Layer layer = record.layers.get(id);
        if (layer == null) {
            throw new LayerNotFoundException(id);
        }
        return layer;
    }

    private String device(int deviceId) {
        return prefix + "-" + deviceId;
    }

    private String thinTable(int deviceId, long size) {
        return "0 " + size / SECTOR + " thin " + DeviceMapper.node(pool) + " " + deviceId;
    }

    private static String shortHash(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256 in this JVM", e);
        }
    }

    private static String bytes(long bytes) {
        if (bytes >= 10L << 30) {
            return String.format("%.1f GB", bytes / (double) (1L << 30));
        }
        if (bytes >= 10L << 20) {
            return String.format("%.1f MB", bytes / (double) (1L << 20));
        }
        return String.format("%.1f kB", bytes / 1024.0);
    }
}
