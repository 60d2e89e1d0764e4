package io.berth.containers.volumes;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.spi.volumes.Volume;
import io.berth.spi.volumes.VolumeService;
import io.berth.storage.support.Commands;
import io.berth.storage.support.DiskFiles;
import io.berth.storage.support.OctalEscapes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Docker's {@code local} volume driver over a root directory (normally {@code <data-root>/volumes}): a volume is
 * {@code <root>/<name>/_data} with its record {@code <root>/<name>/volume.json} (created time, labels, options,
 * whether it is anonymous). A volume directory appears whole or not at all: it is built under a temp name and
 * renamed into place.
 *
 * <p>Driver options are none, or Docker's {@code type}/{@code device}/{@code o} for a tmpfs
 * ({@code type=tmpfs,device=tmpfs,o=size=64m}) or a bind ({@code type=none,o=bind,device=/path}); the lifecycle
 * calls {@link #mount} before a container that uses such a volume starts and {@link #unmount} after the last one
 * stopped. Other types (nfs, block devices) are refused when the volume is created.
 */
public final class LocalVolumes implements VolumeService {

    /** The label Docker puts on anonymous volumes; {@code prune} without {@code all} removes only those. */
    public static final String ANONYMOUS_LABEL = "com.docker.volume.anonymous";

    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]+");
    private static final Set<String> OPTION_KEYS = Set.of("type", "device", "o", "size");
    private static final String RECORD = "volume.json";
    private static final String DATA = "_data";
    private static final Duration MOUNT_TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path root;
    private final VolumeUsers users;

    /** What {@code volume.json} holds. */
    private record VolumeRecord(@JsonProperty("CreatedAt") String createdAt,
                                @JsonProperty("Labels") Map<String, String> labels,
                                @JsonProperty("Options") Map<String, String> options,
                                @JsonProperty("Anonymous") boolean anonymous) {
    }

    /**
     * @param root  the directory that holds the volumes; created if missing, and cleared of what an interrupted
     *              create or remove left behind
     * @param users who uses which volume
     */
    public LocalVolumes(Path root, VolumeUsers users) throws IOException {
        this.root = root.toAbsolutePath();
        this.users = users;
        Files.createDirectories(this.root);
        try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(this.root, DiskFiles.TEMP_PREFIX + "*")) {
            for (Path leftover : leftovers) {
                deleteUnmounted(leftover);
            }
        }
    }

    @Override
    public synchronized Volume create(String name, Map<String, String> labels, Map<String, String> options)
            throws IOException {
        Map<String, String> driverOptions = options == null ? Map.of() : new TreeMap<>(options);
        checkOptions(driverOptions);
        boolean anonymous = name == null || name.isEmpty();
        if (anonymous) {
            name = HexFormat.of().formatHex(randomBytes(32));
        } else {
            checkName(name);
            if (Files.isDirectory(root.resolve(name))) {
                return inspect(name); // Docker returns the existing volume
            }
        }
        Map<String, String> allLabels = labels == null ? new TreeMap<>() : new TreeMap<>(labels);
        if (anonymous) {
            allLabels.put(ANONYMOUS_LABEL, "");
        }
        VolumeRecord record = new VolumeRecord(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
                allLabels, driverOptions, anonymous);
        Path temp = root.resolve(DiskFiles.TEMP_PREFIX + HexFormat.of().formatHex(randomBytes(8)));
        try {
            Files.createDirectories(temp.resolve(DATA));
            DiskFiles.writeAtomically(temp.resolve(RECORD), JSON.writeValueAsBytes(record));
            DiskFiles.syncDirectory(temp);
            Files.move(temp, root.resolve(name), StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            return inspect(name);
        } finally {
            DiskFiles.deleteTree(temp);
        }
        DiskFiles.syncDirectory(root);
        return volume(name, record);
    }

    @Override
    public synchronized List<Volume> list() throws IOException {
        List<Volume> volumes = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
            for (Path dir : dirs) {
                String name = dir.getFileName().toString();
                if (name.startsWith(".")) {
                    continue;
                }
                VolumeRecord record = readRecord(name);
                if (record != null) {
                    volumes.add(volume(name, record));
                }
            }
        }
        volumes.sort((a, b) -> a.name().compareTo(b.name()));
        return volumes;
    }

    @Override
    public synchronized Volume inspect(String name) throws IOException {
        return volume(name, existing(name));
    }

    @Override
    public synchronized void remove(String name, boolean force) throws IOException {
        if (!isVolumeName(name) || readRecord(name) == null) {
            if (force) {
                return;
            }
            throw noSuchVolume(name);
        }
        List<String> using = users.containersUsing(name);
        if (!using.isEmpty()) {
            throw new IllegalStateException("remove " + name + ": volume is in use - [" + String.join(", ", using) + "]");
        }
        unmount(name);
        // Renamed away first, so that a crash mid-delete leaves a leftover the next start removes, not half a volume.
        Path doomed = root.resolve(DiskFiles.TEMP_PREFIX + "removed-" + name);
        Files.move(root.resolve(name), doomed, StandardCopyOption.ATOMIC_MOVE);
        DiskFiles.syncDirectory(root);
        deleteUnmounted(doomed);
    }

    @Override
    public synchronized List<String> prune(boolean all) throws IOException {
        List<String> removed = new ArrayList<>();
        for (Volume volume : list()) {
            boolean anonymous = isAnonymous(volume.name());
            if ((all || anonymous) && users.containersUsing(volume.name()).isEmpty()) {
                remove(volume.name(), false);
                removed.add(volume.name());
            }
        }
        return removed;
    }

    /** Whether a volume of that name exists. */
    public synchronized boolean exists(String name) throws IOException {
        return isVolumeName(name) && readRecord(name) != null;
    }

    /** The host directory with the volume's content (where a container mounts it). */
    public Path dataDirectory(String name) throws IOException {
        existing(name);
        return root.resolve(name).resolve(DATA);
    }

    /** Whether it was created without a name (for a container's {@code VOLUME} or {@code -v /path}). */
    public synchronized boolean isAnonymous(String name) throws IOException {
        return existing(name).anonymous();
    }

    /**
     * Mounts the volume's tmpfs or bind (from its driver options) on its data directory, unless it is mounted
     * already; a volume without options needs nothing. Call before a container that uses it starts.
     *
     * @return its data directory
     */
    public synchronized Path mount(String name) throws IOException {
        Map<String, String> options = existing(name).options();
        Path data = root.resolve(name).resolve(DATA);
        if (options.isEmpty() || isMountPoint(data)) {
            return data;
        }
        List<String> command = new ArrayList<>(List.of("mount", "-t", options.get("type")));
        String o = options.get("o");
        if (o != null && !o.isEmpty()) {
            command.addAll(List.of("-o", o));
        }
        command.addAll(List.of(options.get("device"), data.toString()));
        Commands.check(command, null, MOUNT_TIMEOUT);
        return data;
    }

    /** Unmounts what {@link #mount} mounted, if it is mounted; call after the last container using it stopped. */
    public synchronized void unmount(String name) throws IOException {
        Path data = root.resolve(name).resolve(DATA);
        if (isMountPoint(data)) {
            Commands.check(List.of("umount", data.toString()), null, MOUNT_TIMEOUT);
        }
    }

    // --- names and options ----------------------------------------------------------------------

    /** Docker's rule for local volume names, with its messages. */
    static void checkName(String name) {
        if (name.length() == 1) {
            throw new IllegalArgumentException(
                    "volume name is too short, names should be at least two alphanumeric characters");
        }
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("\"" + name + "\" includes invalid characters for a local volume name,"
                    + " only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory,"
                    + " use absolute path");
        }
    }

    static boolean isVolumeName(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    /** Docker's checks of the local driver's options (its messages too), then what this driver can mount. */
    private static void checkOptions(Map<String, String> options) {
        for (String key : options.keySet()) {
            if (!OPTION_KEYS.contains(key)) {
                throw new IllegalArgumentException("invalid option: \"" + key + "\"");
            }
        }
        if (options.isEmpty()) {
            return;
        }
        if (options.containsKey("size")) {
            throw new IllegalArgumentException("quota size requested but no quota support");
        }
        String type = options.get("type");
        String device = options.get("device");
        if ((device != null || options.containsKey("o")) && type == null) {
            throw new IllegalArgumentException("missing required option: \"type\"");
        }
        if ((type != null || options.containsKey("o")) && device == null) {
            throw new IllegalArgumentException("missing required option: \"device\"");
        }
        List<String> o = List.of(options.getOrDefault("o", "").split(","));
        boolean bind = type.equals("none") && (o.contains("bind") || o.contains("rbind"));
        if (bind) {
            if (!device.startsWith("/") || !Files.isDirectory(Path.of(device))) {
                throw new IllegalArgumentException("bind source path does not exist: " + device);
            }
        } else if (!type.equals("tmpfs")) {
            throw new IllegalArgumentException("unsupported volume type \"" + type + "\": the local driver here mounts"
                    + " a tmpfs (type=tmpfs,device=tmpfs) or a bind (type=none,o=bind,device=/path) only");
        }
    }

    // --- records --------------------------------------------------------------------------------

    private VolumeRecord existing(String name) throws IOException {
        VolumeRecord record = isVolumeName(name) ? readRecord(name) : null;
        if (record == null) {
            throw noSuchVolume(name);
        }
        return record;
    }

    private VolumeRecord readRecord(String name) throws IOException {
        byte[] json;
        try {
            json = Files.readAllBytes(root.resolve(name).resolve(RECORD));
        } catch (NoSuchFileException e) {
            return null;
        }
        VolumeRecord record = JSON.readValue(json, VolumeRecord.class);
        return new VolumeRecord(record.createdAt(),
                record.labels() == null ? Map.of() : record.labels(),
                record.options() == null ? Map.of() : record.options(), record.anonymous());
    }

    private Volume volume(String name, VolumeRecord record) {
        return new Volume(name, "local", root.resolve(name).resolve(DATA).toString(), record.createdAt(),
                record.labels(), "local", record.options());
    }

    private static NoSuchElementException noSuchVolume(String name) {
        return new NoSuchElementException("get " + name + ": no such volume");
    }

    private static byte[] randomBytes(int count) {
        byte[] bytes = new byte[count];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    /** Deletes a volume's tree, but never through a mount that is still there (a bind volume's host directory). */
    private static void deleteUnmounted(Path dir) throws IOException {
        Path data = dir.resolve(DATA);
        if (isMountPoint(data)) {
            Commands.check(List.of("umount", data.toString()), null, MOUNT_TIMEOUT);
        }
        DiskFiles.deleteTree(dir);
    }

    private static boolean isMountPoint(Path dir) throws IOException {
        String wanted = dir.toAbsolutePath().normalize().toString();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
            String[] fields = line.split(" ");
            if (fields.length > 4 && OctalEscapes.decodeUtf8(fields[4]).equals(wanted)) {
                return true;
            }
        }
        return false;
    }
}
