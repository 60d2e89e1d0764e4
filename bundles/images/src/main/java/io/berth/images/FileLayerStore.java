package io.berth.images;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.spi.idmap.IdMap;
import io.berth.spi.images.Layer;
import io.berth.spi.images.LayerStore;
import io.berth.spi.storage.Change;
import io.berth.spi.storage.DiffDriver;
import io.berth.spi.storage.StorageCapability;
import io.berth.spi.storage.StorageDriver;
import io.berth.storage.archive.IdShift;
import io.berth.storage.archive.NaiveDiffDriver;
import io.berth.storage.support.DiskFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The layer store on disk: {@code <root>/<chain id hex>/layer.json} per layer,
 * written atomically. A layer's content lives in a storage driver under a
 * random "cache id" (as in Docker's layer database), so a layer can be
 * unpacked before its digest is known and moved to another driver later.
 * A child layer holds one reference on its parent.
 */
public final class FileLayerStore implements LayerStore {

    private static final System.Logger LOG = System.getLogger("berth.images");
    private static final Pattern CHAIN_ID = Pattern.compile("sha256:[0-9a-f]{64}");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Prefix of the note {@link #register} keeps while a layer is unpacked but not yet recorded. */
    private static final String UNFINISHED = ".unfinished-";
    /** Prefix of the note an {@link OutOfOrderChain} keeps while it holds a reference on its base layer. */
    private static final String PINNED = ".pinned-";

    /** What layer.json holds. */
    record StoredLayer(String chainId, String diffId, String parent, String driver, String cacheId, long size,
                       int references) {
        Layer toLayer() {
            return new Layer(chainId, diffId, parent, driver, size, references);
        }

        StoredLayer withReferences(int count) {
            return new StoredLayer(chainId, diffId, parent, driver, cacheId, size, count);
        }
    }

    /**
     * What mounts/ID.json holds for a container's read-write layer. {@code idMap} and {@code remapped} are set for a
     * container in a user namespace: its layer is built on the remapped copy of {@code parent}.
     */
    record ReadWriteLayer(String containerId, String parent, String driver, String cacheId, IdMap idMap,
                          String remapped) {
    }

    /**
     * What remapped/KEY.json holds: a copy of layer {@code parent} whose files belong to the host ids {@code idMap}
     * gives their owners, made for the first container in that user namespace and kept, as Docker keeps an image's
     * copy per remapped root, until {@code parent} itself goes. Containers on it hold their reference on
     * {@code parent}, so a copy never outlives its parent and is never removed under a container.
     */
    record RemappedLayer(String key, String parent, IdMap idMap, String driver, String cacheId) {
    }

    private static final Pattern CONTAINER_ID = Pattern.compile("[0-9a-f]{64}");

    private final Path root;
    private final Path mounts;
    private final Path remapped;
    private final StorageDrivers drivers;
    private final Supplier<Optional<String>> configuredDriver;
    private volatile String runtimeDriver;
    /** Names of the notes of {@link OutOfOrderChain}s under way, which {@link #removeUnfinished} leaves alone. */
    private final Set<String> live = new TreeSet<>();

    /**
     * @param root             the store's directory
     * @param drivers          the registered storage drivers
     * @param configuredDriver {@code storage-driver} from daemon.json, if set
     */
    public FileLayerStore(Path root, StorageDrivers drivers, Supplier<Optional<String>> configuredDriver)
            throws IOException {
        this.root = Files.createDirectories(root);
        this.mounts = Files.createDirectories(root.resolve("mounts"));
        this.remapped = Files.createDirectories(root.resolve("remapped"));
        this.drivers = drivers;
        this.configuredDriver = configuredDriver;
        removeUnfinished();
    }

    @Override
    public synchronized Layer register(InputStream tar, String parentChainId) throws IOException {
        StoredLayer parent = parentChainId == null ? null : require(parentChainId);
        // A chain stays in one driver: a child goes where its parent is.
        String driverName = parent == null ? currentDriver() : parent.driver();
        DiffDriver driver = driver(driverName);
        String cacheId = newCacheId();
        String parentCacheId = parent == null ? null : parent.cacheId();
        // Until layer.json names it, the driver's copy is only noted here: a crash leaves the note, and
        // removeUnfinished() removes the copy once its driver is back.
        Path unfinished = noteUnfinished(driverName, cacheId);
        driver.create(cacheId, parentCacheId);
        Unpacked unpacked;
        try {
            unpacked = unpack(driver, cacheId, parentCacheId, tar);
        } catch (IOException | RuntimeException e) {
            removeQuietly(driver, cacheId);
            Files.deleteIfExists(unfinished);
            throw e;
        }
        String chainId = Digests.chainId(parentChainId, unpacked.diffId());
        StoredLayer existing = read(chainId);
        if (existing != null) {
            driver.remove(cacheId);
            Files.deleteIfExists(unfinished);
            StoredLayer again = existing.withReferences(existing.references() + 1);
            write(again);
            return again.toLayer();
        }
        return record(new StoredLayer(chainId, unpacked.diffId(), parentChainId, driverName, cacheId,
                unpacked.size(), 1), unfinished);
    }

    /** Writes a new layer's layer.json, takes its reference on its parent, and drops its unfinished note. */
    private Layer record(StoredLayer created, Path unfinished) throws IOException {
        if (created.parent() != null) {
            StoredLayer parent = require(created.parent());
            write(parent.withReferences(parent.references() + 1));
        }
        write(created);
        Files.deleteIfExists(unfinished);
        return created.toLayer();
    }

    private Path noteUnfinished(String driverName, String cacheId) throws IOException {
        Path unfinished = root.resolve(UNFINISHED + cacheId);
        DiskFiles.writeAtomically(unfinished, driverName.getBytes(StandardCharsets.UTF_8));
        return unfinished;
    }

    private record Unpacked(String diffId, long size) {
    }

    /** Applies a layer tar to a created layer, hashing the tar (its diff id) on another thread meanwhile. */
    private static Unpacked unpack(DiffDriver driver, String cacheId, String parentCacheId, InputStream tar)
            throws IOException {
        BackgroundDigest digesting = new BackgroundDigest(tar, sha256());
        try {
            long size = driver.applyDiff(cacheId, parentCacheId, digesting);
            digesting.transferTo(OutputStream.nullOutputStream()); // the tar's end padding counts too
            return new Unpacked("sha256:" + HexFormat.of().formatHex(digesting.digest()), size);
        } catch (IOException | RuntimeException e) {
            try {
                digesting.digest(); // ends its thread
            } catch (IOException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
    }

    @Override
    public synchronized LayerChain beginChain(String parentChainId, List<String> diffIds) throws IOException {
        StoredLayer base = parentChainId == null ? null : require(parentChainId);
        String driverName = base == null ? currentDriver() : base.driver();
        StorageDriver raw = drivers.byName(driverName);
        if (!(raw instanceof DiffDriver native_) || !raw.capabilities().contains(StorageCapability.INDEPENDENT_DIFFS)
                || diffIds.isEmpty()) {
            return null;
        }
        return new OutOfOrderChain(native_, driverName, base, diffIds);
    }

    /**
     * {@link LayerChain} on a driver with independent diffs. Every layer is created, parent first, and noted as
     * unfinished at once; the base layer gets a reference, noted in a pin file, so that it cannot go while the
     * chain's layers are built on it in the driver. The store's lock is held to create and commit, not to unpack.
     */
    private final class OutOfOrderChain implements LayerChain {
        private final DiffDriver driver;
        private final String driverName;
        private final StoredLayer base;
        private final List<String> diffIds;
        private final List<String> chainIds = new ArrayList<>();
        private final List<String> cacheIds = new ArrayList<>();
        private final Path pin;
        // Guarded by FileLayerStore.this.
        private final Unpacked[] unpacked;
        private final boolean[] committed;
        private boolean closed;

        OutOfOrderChain(DiffDriver driver, String driverName, StoredLayer base, List<String> diffIds)
                throws IOException {
            this.driver = driver;
            this.driverName = driverName;
            this.base = base;
            this.diffIds = List.copyOf(diffIds);
            this.unpacked = new Unpacked[diffIds.size()];
            this.committed = new boolean[diffIds.size()];
            String parent = base == null ? null : base.chainId();
            for (String diffId : this.diffIds) {
                parent = Digests.chainId(parent, diffId);
                chainIds.add(parent);
            }
            pin = base == null ? null : root.resolve(PINNED + newCacheId());
            try {
                if (pin != null) {
                    // The reference first: a crash before the note leaks a reference, never drops one not taken.
                    write(base.withReferences(base.references() + 1));
                    live.add(pin.getFileName().toString());
                    DiskFiles.writeAtomically(pin, base.chainId().getBytes(StandardCharsets.UTF_8));
                }
                String parentCacheId = base == null ? null : base.cacheId();
                for (int i = 0; i < diffIds.size(); i++) {
                    String cacheId = newCacheId();
                    live.add(UNFINISHED + cacheId);
                    noteUnfinished(driverName, cacheId);
                    cacheIds.add(cacheId);
                    driver.create(cacheId, parentCacheId);
                    parentCacheId = cacheId;
                }
            } catch (IOException | RuntimeException e) {
                try {
                    close();
                } catch (IOException again) {
                    e.addSuppressed(again);
                }
                throw e;
            }
        }

        @Override
        public void unpack(int index, InputStream tar) throws IOException {
            synchronized (FileLayerStore.this) {
                if (closed || unpacked[index] != null) {
                    throw new IllegalStateException("layer " + (index + 1) + " of the chain is "
                            + (closed ? "closed" : "unpacked already"));
                }
            }
            String parentCacheId = index == 0 ? (base == null ? null : base.cacheId()) : cacheIds.get(index - 1);
            Unpacked done = FileLayerStore.unpack(driver, cacheIds.get(index), parentCacheId, tar);
            if (!done.diffId().equals(diffIds.get(index))) {
                throw new IOException("layer " + (index + 1) + " gives diff id " + done.diffId() + ", not "
                        + diffIds.get(index));
            }
            synchronized (FileLayerStore.this) {
                unpacked[index] = done;
            }
        }

        @Override
        public Layer commit(int index) throws IOException {
            synchronized (FileLayerStore.this) {
                if (closed || unpacked[index] == null || committed[index] || read(chainIds.get(index)) != null) {
                    return null;
                }
                String parent = index == 0 ? (base == null ? null : base.chainId()) : chainIds.get(index - 1);
                String parentCacheId = index == 0 ? (base == null ? null : base.cacheId()) : cacheIds.get(index - 1);
                StoredLayer below = parent == null ? null : read(parent);
                if (parent != null && (below == null || !below.cacheId().equals(parentCacheId))) {
                    return null; // the layer below is another copy: this one is built on the wrong directory
                }
                committed[index] = true;
                return record(new StoredLayer(chainIds.get(index), diffIds.get(index), parent, driverName,
                        cacheIds.get(index), unpacked[index].size(), 1), root.resolve(UNFINISHED + cacheIds.get(index)));
            }
        }

        @Override
        public void close() throws IOException {
            synchronized (FileLayerStore.this) {
                if (closed) {
                    return;
                }
                closed = true;
                IOException failure = new IOException("cannot close the chain of layers " + chainIds);
                removeUncommitted(failure);
                if (pin != null && Files.exists(pin)) {
                    try {
                        release(base.chainId());
                        Files.delete(pin);
                    } catch (IOException | RuntimeException e) {
                        failure.addSuppressed(e);
                    }
                }
                // What could not be removed is left to removeUnfinished at the next start.
                cacheIds.forEach(cacheId -> live.remove(UNFINISHED + cacheId));
                if (pin != null) {
                    live.remove(pin.getFileName().toString());
                }
                if (failure.getSuppressed().length > 0) {
                    throw failure;
                }
            }
        }

        /** Removes the created layers no layer.json names, top first (a driver refuses to remove a parent). */
        private void removeUncommitted(Exception failure) {
            for (int i = cacheIds.size() - 1; i >= 0; i--) {
                if (committed[i]) {
                    continue;
                }
                try {
                    if (driver.exists(cacheIds.get(i))) {
                        driver.remove(cacheIds.get(i));
                    }
                    Files.deleteIfExists(root.resolve(UNFINISHED + cacheIds.get(i)));
                } catch (IOException | RuntimeException e) {
                    failure.addSuppressed(e);
                }
            }
        }
    }

    /**
     * Removes what a {@link #register} or a {@link LayerChain} interrupted by a crash left in a storage driver: a
     * copy no layer.json names (a copy whose driver is not running stays noted until it is), and a chain's
     * reference on its base layer. Notes of chains under way in this process are left alone.
     */
    synchronized void removeUnfinished() throws IOException {
        List<Path> notes;
        try (Stream<Path> files = Files.list(root)) {
            notes = files.filter(p -> !live.contains(p.getFileName().toString()))
                    .filter(p -> p.getFileName().toString().startsWith(UNFINISHED)
                            || p.getFileName().toString().startsWith(PINNED))
                    .sorted().toList();
        }
        if (notes.isEmpty()) {
            return;
        }
        // A crash between writing layer.json and removing the note leaves a note for a recorded layer.
        Set<String> recorded = new TreeSet<>();
        stored().forEach(layer -> recorded.add(layer.cacheId()));
        remappedLayers().forEach(layer -> recorded.add(layer.cacheId()));
        List<Path> left = new ArrayList<>();
        for (Path note : notes) {
            String name = note.getFileName().toString();
            if (name.startsWith(UNFINISHED) && recorded.contains(name.substring(UNFINISHED.length()))) {
                Files.delete(note);
            } else if (name.startsWith(UNFINISHED)) {
                left.add(note);
            }
        }
        // A chain's layers are parents of one another, and a driver refuses to remove a parent before its
        // child: go round until a round removes nothing.
        IOException refused = null;
        for (boolean removedSome = true; removedSome && !left.isEmpty(); ) {
            removedSome = false;
            for (var it = left.iterator(); it.hasNext(); ) {
                Path note = it.next();
                String cacheId = note.getFileName().toString().substring(UNFINISHED.length());
                StorageDriver driver = drivers.byName(Files.readString(note, StandardCharsets.UTF_8).trim());
                if (driver == null) {
                    it.remove();
                    continue;
                }
                try {
                    if (driver.exists(cacheId)) {
                        driver.remove(cacheId);
                    }
                } catch (IOException e) {
                    refused = e;
                    continue;
                }
                Files.delete(note);
                it.remove();
                removedSome = true;
                LOG.log(System.Logger.Level.INFO, "removed unfinished layer " + cacheId + " from an interrupted unpack");
            }
        }
        if (!left.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "cannot remove " + left.size() + " unfinished layers: "
                    + refused.getMessage());
            return; // the pins keep their base layers under what is left
        }
        for (Path note : notes) {
            if (note.getFileName().toString().startsWith(PINNED)) {
                String chainId = Files.readString(note, StandardCharsets.UTF_8).trim();
                if (read(chainId) != null) {
                    release(chainId);
                }
                Files.delete(note);
                LOG.log(System.Logger.Level.INFO, "dropped the reference an interrupted pull held on " + chainId);
            }
        }
    }

    @Override
    public synchronized Layer get(String chainId) throws IOException {
        StoredLayer layer = read(chainId);
        return layer == null ? null : layer.toLayer();
    }

    @Override
    public synchronized List<Layer> layers() throws IOException {
        return stored().stream().map(StoredLayer::toLayer).toList();
    }

    @Override
    public synchronized void release(String chainId) throws IOException {
        StoredLayer layer = require(chainId);
        while (layer != null) {
            if (layer.references() > 1) {
                write(layer.withReferences(layer.references() - 1));
                return;
            }
            StorageDriver driver = drivers.byName(layer.driver());
            if (driver == null) {
                throw new IOException("layer " + layer.chainId() + " is in storage driver " + layer.driver()
                        + ", which is not running");
            }
            removeRemappedCopies(layer, driver);
            driver.remove(layer.cacheId());
            Files.delete(file(layer.chainId()));
            Files.delete(file(layer.chainId()).getParent());
            // The removed layer held one reference on its parent.
            layer = layer.parent() == null ? null : require(layer.parent());
        }
    }

    @Override
    public String currentDriver() {
        Optional<String> chosen = Optional.ofNullable(runtimeDriver).or(configuredDriver);
        Set<String> withLayers = new TreeSet<>();
        try {
            stored().forEach(layer -> withLayers.add(layer.driver()));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the layer store at " + root + ": " + e.getMessage(), e);
        }
        return DriverChoice.choose(chosen.filter(name -> !name.isBlank()), drivers.activeNames(), withLayers);
    }

    @Override
    public void useDriver(String name) {
        if (!drivers.activeNames().contains(name)) {
            throw new IllegalArgumentException("storage driver " + name + " is not active (active: "
                    + new TreeSet<>(drivers.activeNames()) + ")");
        }
        runtimeDriver = name;
        LOG.log(System.Logger.Level.INFO, "new layers now go to storage driver " + name);
    }

    @Override
    public synchronized int migrate(String name) throws IOException {
        DiffDriver target = driver(name);
        List<StoredLayer> moved = new ArrayList<>();
        Map<String, String> newCacheIds = new HashMap<>();
        Set<String> underContainers = underReadWriteLayers();
        for (StoredLayer layer : stored()) { // parents before children
            if (underContainers.contains(layer.chainId())) {
                LOG.log(System.Logger.Level.INFO, "layer " + layer.chainId() + " stays in " + layer.driver()
                        + ": a container's read-write layer is built on it");
                continue;
            }
            if (layer.driver().equals(name)) {
                newCacheIds.put(layer.chainId(), layer.cacheId());
                continue;
            }
            DiffDriver source = driver(layer.driver());
            String parentCacheId = layer.parent() == null ? null : newCacheIds.get(layer.parent());
            String sourceParent = layer.parent() == null ? null : require(layer.parent()).cacheId();
            String cacheId = newCacheId();
            target.create(cacheId, parentCacheId);
            try (InputStream diff = source.diff(layer.cacheId(), sourceParent)) {
                target.applyDiff(cacheId, parentCacheId, diff);
            } catch (IOException | RuntimeException e) {
                removeQuietly(target, cacheId);
                throw new IOException("moving layer " + layer.chainId() + " to " + name + " failed: " + e.getMessage(), e);
            }
            newCacheIds.put(layer.chainId(), cacheId);
            moved.add(layer);
        }
        // Record the new homes, then remove the old copies, children first.
        for (StoredLayer layer : moved) {
            StoredLayer current = require(layer.chainId());
            write(new StoredLayer(current.chainId(), current.diffId(), current.parent(), name,
                    newCacheIds.get(layer.chainId()), current.size(), current.references()));
        }
        for (int i = moved.size() - 1; i >= 0; i--) {
            StoredLayer old = moved.get(i);
            StorageDriver source = drivers.byName(old.driver());
            try {
                removeRemappedCopies(old, source); // made again in the new driver when a container needs one
                source.remove(old.cacheId());
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "old copy " + old.cacheId() + " of layer " + old.chainId()
                        + " in " + old.driver() + " stays: " + e.getMessage());
            }
        }
        return moved.size();
    }

    @Override
    public synchronized String createReadWrite(String containerId, String parentChainId, IdMap idMap)
            throws IOException {
        Path file = mountFile(containerId);
        if (Files.exists(file)) {
            throw new IllegalStateException("container " + containerId + " has a read-write layer already");
        }
        StoredLayer parent = parentChainId == null ? null : require(parentChainId);
        String driverName = parent == null ? currentDriver() : parent.driver();
        StorageDriver driver = drivers.byName(driverName);
        if (driver == null) {
            throw new IOException("storage driver " + driverName + " is not running");
        }
        // An empty root needs no copy: only its top directory is given to the container's root below.
        RemappedLayer shifted = idMap == null || parent == null ? null : remapped(parent, idMap, driver, driverName);
        String cacheId = newCacheId();
        Path unfinished = root.resolve(UNFINISHED + cacheId);
        DiskFiles.writeAtomically(unfinished, driverName.getBytes(StandardCharsets.UTF_8));
        boolean parentHeld = false;
        try {
            String below = shifted != null ? shifted.cacheId() : parent == null ? null : parent.cacheId();
            driver.createReadWrite(cacheId, below);
            if (idMap != null) {
                claimRoot(driver, cacheId, idMap);
            }
            // The reference first: a crash before the record only leaks a reference, never frees a used layer.
            if (parent != null) {
                write(parent.withReferences(parent.references() + 1));
                parentHeld = true;
            }
            DiskFiles.writeAtomically(file, JSON.writeValueAsBytes(new ReadWriteLayer(containerId, parentChainId,
                    driverName, cacheId, idMap, shifted == null ? null : shifted.key())));
        } catch (IOException | RuntimeException e) {
            if (parentHeld) {
                write(parent); // the count it had: no read-write layer holds it
            }
            removeQuietly(driver, cacheId); // a new copy stays for the next container
            throw e;
        } finally {
            Files.deleteIfExists(unfinished);
        }
        return driverName;
    }

    /**
     * The remapped copy of {@code parent} for {@code idMap}, made first if needed: a read-only layer on the parent
     * whose every file is chowned to its owner's host ids. On overlay that copies every file up once per image and
     * map, as Docker's userns-remap keeps a copy of each image per remapped root.
     */
    private RemappedLayer remapped(StoredLayer parent, IdMap idMap, StorageDriver driver, String driverName)
            throws IOException {
        String key = sha256Hex(parent.chainId() + " " + idMap.key());
        Path file = remapped.resolve(key + ".json");
        if (Files.exists(file)) {
            return JSON.readValue(file.toFile(), RemappedLayer.class);
        }
        String cacheId = newCacheId();
        Path unfinished = root.resolve(UNFINISHED + cacheId);
        DiskFiles.writeAtomically(unfinished, driverName.getBytes(StandardCharsets.UTF_8));
        try {
            driver.create(cacheId, parent.cacheId());
            Path tree = driver.get(cacheId);
            try {
                IdShift.shiftTree(tree, idMap);
            } finally {
                driver.put(cacheId);
            }
            RemappedLayer created = new RemappedLayer(key, parent.chainId(), idMap, driverName, cacheId);
            DiskFiles.writeAtomically(file, JSON.writeValueAsBytes(created));
            LOG.log(System.Logger.Level.INFO, "made the copy of layer " + parent.chainId() + " for user namespace "
                    + idMap.key());
            return created;
        } catch (IOException | RuntimeException e) {
            removeQuietly(driver, cacheId);
            throw e;
        } finally {
            Files.deleteIfExists(unfinished);
        }
    }

    /**
     * Gives a read-write layer's root directory to the container's root when the driver made it for the host's
     * (overlay's upper directory is the merged root's owner): else the container's root could not write to /.
     */
    private static void claimRoot(StorageDriver driver, String cacheId, IdMap idMap) throws IOException {
        Path top = driver.get(cacheId);
        try {
            if (Files.getAttribute(top, "unix:uid").equals(0) && Files.getAttribute(top, "unix:gid").equals(0)) {
                IdShift.chownToHost(top, 0, 0, idMap);
            }
        } finally {
            driver.put(cacheId);
        }
    }

    /** Removes the remapped copies of a layer that goes away (or moves to another driver); no container uses them. */
    private void removeRemappedCopies(StoredLayer layer, StorageDriver driver) throws IOException {
        for (RemappedLayer copy : remappedLayers()) {
            if (copy.parent().equals(layer.chainId())) {
                if (driver.exists(copy.cacheId())) {
                    driver.remove(copy.cacheId());
                }
                Files.delete(remapped.resolve(copy.key() + ".json"));
            }
        }
    }

    private List<RemappedLayer> remappedLayers() throws IOException {
        List<RemappedLayer> layers = new ArrayList<>();
        try (Stream<Path> files = Files.list(remapped)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                if (file.getFileName().toString().endsWith(".json")) {
                    layers.add(JSON.readValue(file.toFile(), RemappedLayer.class));
                }
            }
        }
        return layers;
    }

    @Override
    public synchronized Path mountReadWrite(String containerId) throws IOException {
        ReadWriteLayer layer = requireReadWrite(containerId);
        return runningDriver(layer).get(layer.cacheId());
    }

    @Override
    public synchronized void unmountReadWrite(String containerId) throws IOException {
        ReadWriteLayer layer = requireReadWrite(containerId);
        runningDriver(layer).put(layer.cacheId());
    }

    @Override
    public synchronized void removeReadWrite(String containerId) throws IOException {
        ReadWriteLayer layer = requireReadWrite(containerId);
        StorageDriver driver = runningDriver(layer);
        if (driver.exists(layer.cacheId())) {
            driver.remove(layer.cacheId());
        }
        Files.delete(mountFile(containerId));
        if (layer.parent() != null) {
            release(layer.parent());
        }
    }

    @Override
    public synchronized List<Change> changes(String containerId) throws IOException {
        ReadWriteLayer layer = requireReadWrite(containerId);
        return driver(layer.driver()).changes(layer.cacheId(), parentCacheId(layer));
    }

    @Override
    public synchronized InputStream diff(String containerId) throws IOException {
        ReadWriteLayer layer = requireReadWrite(containerId);
        InputStream diff = driver(layer.driver()).diff(layer.cacheId(), parentCacheId(layer));
        return layer.idMap() == null ? diff : IdShift.toContainerIds(diff, layer.idMap());
    }

    /** The cache id of what the read-write layer is built on: the remapped copy, the parent, or none. */
    private String parentCacheId(ReadWriteLayer layer) throws IOException {
        if (layer.remapped() != null) {
            return JSON.readValue(remapped.resolve(layer.remapped() + ".json").toFile(), RemappedLayer.class)
                    .cacheId();
        }
        return layer.parent() == null ? null : require(layer.parent()).cacheId();
    }

    private StorageDriver runningDriver(ReadWriteLayer layer) throws IOException {
        StorageDriver driver = drivers.byName(layer.driver());
        if (driver == null) {
            throw new IOException("container " + layer.containerId() + "'s layer is in storage driver "
                    + layer.driver() + ", which is not running");
        }
        return driver;
    }

    private ReadWriteLayer requireReadWrite(String containerId) throws IOException {
        Path file = mountFile(containerId);
        if (!Files.exists(file)) {
            throw new java.util.NoSuchElementException("container " + containerId + " has no read-write layer");
        }
        return JSON.readValue(file.toFile(), ReadWriteLayer.class);
    }

    @Override
    public synchronized List<String> readWriteParents() throws IOException {
        List<String> parents = new ArrayList<>();
        try (Stream<Path> files = Files.list(mounts)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String parent = JSON.readValue(file.toFile(), ReadWriteLayer.class).parent();
                if (parent != null) {
                    parents.add(parent);
                }
            }
        }
        return parents;
    }

    /** Every chain id some container's read-write layer is built on, with all their ancestors. */
    private Set<String> underReadWriteLayers() throws IOException {
        Set<String> chains = new TreeSet<>();
        for (String top : readWriteParents()) {
            String parent = top;
            while (parent != null && chains.add(parent)) {
                StoredLayer layer = read(parent);
                parent = layer == null ? null : layer.parent();
            }
        }
        return chains;
    }

    private Path mountFile(String containerId) {
        if (!CONTAINER_ID.matcher(containerId).matches()) {
            throw new IllegalArgumentException("invalid container id: " + containerId);
        }
        return mounts.resolve(containerId + ".json");
    }

    private DiffDriver driver(String name) throws IOException {
        StorageDriver driver = drivers.byName(name);
        if (driver == null) {
            throw new IOException("storage driver " + name + " is not running");
        }
        return NaiveDiffDriver.of(driver);
    }

    private StoredLayer require(String chainId) throws IOException {
        StoredLayer layer = read(chainId);
        if (layer == null) {
            throw new IOException("layer " + chainId + " does not exist");
        }
        return layer;
    }

    private StoredLayer read(String chainId) throws IOException {
        if (!CHAIN_ID.matcher(chainId).matches()) {
            throw new IllegalArgumentException("invalid chain id: " + chainId);
        }
        Path file = file(chainId);
        return Files.exists(file) ? JSON.readValue(file.toFile(), StoredLayer.class) : null;
    }

    /** Every layer, parents before children. */
    private List<StoredLayer> stored() throws IOException {
        Map<String, StoredLayer> byChain = new HashMap<>();
        try (Stream<Path> dirs = Files.list(root)) {
            for (Path dir : (Iterable<Path>) dirs::iterator) {
                Path file = dir.resolve("layer.json");
                if (Files.exists(file)) {
                    StoredLayer layer = JSON.readValue(file.toFile(), StoredLayer.class);
                    byChain.put(layer.chainId(), layer);
                }
            }
        }
        Map<String, Integer> depth = new HashMap<>();
        for (StoredLayer layer : byChain.values()) {
            int d = 0;
            for (String p = layer.parent(); p != null && byChain.containsKey(p); p = byChain.get(p).parent()) {
                d++;
            }
            depth.put(layer.chainId(), d);
        }
        List<StoredLayer> ordered = new ArrayList<>(byChain.values());
        ordered.sort(Comparator.comparing((StoredLayer l) -> depth.get(l.chainId())).thenComparing(StoredLayer::chainId));
        return ordered;
    }

    private void write(StoredLayer layer) throws IOException {
        Path file = file(layer.chainId());
        Files.createDirectories(file.getParent());
        DiskFiles.writeAtomically(file, JSON.writeValueAsBytes(layer));
    }

    private Path file(String chainId) {
        return root.resolve(chainId.substring("sha256:".length())).resolve("layer.json");
    }

    private static void removeQuietly(StorageDriver driver, String cacheId) {
        try {
            if (driver.exists(cacheId)) {
                driver.remove(cacheId);
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot remove unfinished layer " + cacheId + ": " + e.getMessage());
        }
    }

    private static String newCacheId() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sha256Hex(String text) {
        return HexFormat.of().formatHex(sha256().digest(text.getBytes(StandardCharsets.UTF_8)));
    }
}
