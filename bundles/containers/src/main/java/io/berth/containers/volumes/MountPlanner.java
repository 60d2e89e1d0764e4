package io.berth.containers.volumes;

import io.berth.containers.files.ContainerPaths;
import io.berth.spi.containers.Container.MountPoint;
import io.berth.spi.containers.HostConfig;
import io.berth.spi.containers.HostConfig.MountRequest;
import io.berth.spi.idmap.IdMap;
import io.berth.spi.runtime.RuntimeSpec;
import io.berth.storage.archive.IdShift;
import io.berth.storage.support.Commands;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Turns a container's {@code HostConfig} ({@code Binds}, {@code Mounts}, {@code Tmpfs}) and its image's
 * {@code VOLUME}s into the mounts the runtime makes, the {@code Mounts} inspect shows and the volumes that had to
 * be created, with Docker's syntax, rules and messages.
 *
 * <p>Everything is checked before anything is done; then missing {@code -v} host directories and volumes are
 * created and new empty volumes get the image's content at their path (copy-up) unless {@code nocopy}. If that
 * fails, the volumes made so far are removed again.
 */
public final class MountPlanner {

    private static final Set<String> RW_MODES = Set.of("rw", "ro");
    private static final Set<String> LABEL_MODES = Set.of("z", "Z");
    private static final Set<String> PROPAGATION_MODES =
            Set.of("private", "rprivate", "shared", "rshared", "slave", "rslave");
    private static final Set<String> COPY_MODES = Set.of("nocopy");
    private static final Set<String> CONSISTENCY_MODES = Set.of("consistent", "cached", "delegated");
    private static final List<Set<String>> MODE_KINDS =
            List.of(RW_MODES, LABEL_MODES, PROPAGATION_MODES, COPY_MODES, CONSISTENCY_MODES);
    /** What Docker gives every tmpfs before the user's options (which win). */
    private static final List<String> TMPFS_DEFAULTS = List.of("noexec", "nosuid", "nodev", "rprivate");
    private static final Duration COPY_TIMEOUT = Duration.ofMinutes(30);

    private final LocalVolumes volumes;

    /**
     * What a container mounts.
     *
     * @param mounts         for the runtime, parents before children
     * @param mountPoints    for inspect ({@code Mounts}); {@code --tmpfs} mounts are not listed, as in Docker
     * @param createdVolumes the volumes this plan created (named and anonymous), which {@link #undo} removes
     */
    public record Plan(List<RuntimeSpec.Mount> mounts, List<MountPoint> mountPoints, List<String> createdVolumes) {

        /** The names of all volumes the container uses (for {@link LocalVolumes#mount} and the in-use check). */
        public List<String> volumes() {
            return mountPoints.stream().filter(m -> m.type().equals("volume")).map(MountPoint::name).toList();
        }
    }

    /** One mount, checked but not yet made; {@code source} is null for an anonymous volume and a tmpfs. */
    private record Request(String type, String source, String destination, boolean readOnly, boolean noCopy,
                           String mode, String propagation, List<String> tmpfsOptions, Map<String, String> labels,
                           boolean createSource) {
    }

    public MountPlanner(LocalVolumes volumes) {
        this.volumes = volumes;
    }

    /**
     * Plans a container's mounts and creates what they need.
     *
     * @param host         the host configuration (null: none)
     * @param imageVolumes the image's {@code VOLUME} paths (null: none); each becomes an anonymous volume unless a
     *                     bind, volume or tmpfs is mounted at exactly that path
     * @param rootfs       the container's mounted root filesystem, whose content fills new empty volumes (may be
     *                     null when nothing is asked for: then it is not read)
     * @throws IllegalArgumentException for bad input, with Docker's message; nothing is created then
     */
    public Plan plan(HostConfig host, Collection<String> imageVolumes, Path rootfs) throws IOException {
        return plan(host, imageVolumes, rootfs, null);
    }

    /**
     * {@link #plan(HostConfig, Collection, Path)} for a container in a user namespace ({@code idMap}, null for
     * none): an empty volume still owned by the host's root is given to the container's root first, as Docker's
     * volumes under a remapped root are.
     */
    public Plan plan(HostConfig host, Collection<String> imageVolumes, Path rootfs, IdMap idMap) throws IOException {
        List<Request> requests = new ArrayList<>();
        if (host != null && host.binds() != null) {
            for (String bind : host.binds()) {
                requests.add(parseBind(bind));
            }
        }
        if (host != null && host.mounts() != null) {
            for (MountRequest mount : host.mounts()) {
                requests.add(parseMount(mount));
            }
        }
        if (host != null && host.tmpfs() != null) {
            for (Map.Entry<String, String> tmpfs : new TreeMap<>(host.tmpfs()).entrySet()) {
                requests.add(parseTmpfs(tmpfs.getKey(), tmpfs.getValue()));
            }
        }
        Set<String> destinations = new HashSet<>();
        for (Request request : requests) {
            if (!destinations.add(request.destination())) {
                throw new IllegalArgumentException("Duplicate mount point: " + request.destination());
            }
        }
        if (imageVolumes != null) {
            for (String path : imageVolumes.stream().sorted().toList()) {
                String destination = clean(path);
                if (!path.startsWith("/") || destination.equals("/")) {
                    continue; // an image cannot be refused at run time; Docker skips what it cannot mount too
                }
                if (destinations.add(destination)) {
                    requests.add(new Request("volume", null, destination, false, false, "", "", null, null, false));
                }
            }
        }
        requests.sort(Comparator.comparingInt(r -> ContainerPaths.parts(r.destination()).size()));
        return carryOut(requests, rootfs, idMap);
    }

    /** Removes the volumes a plan created (when creating the container failed after planning). */
    public void undo(Plan plan) throws IOException {
        for (String name : plan.createdVolumes()) {
            volumes.remove(name, true);
        }
    }

    // --- doing it -------------------------------------------------------------------------------

    private Plan carryOut(List<Request> requests, Path rootfs, IdMap idMap) throws IOException {
        List<RuntimeSpec.Mount> mounts = new ArrayList<>();
        List<MountPoint> mountPoints = new ArrayList<>();
        List<String> created = new ArrayList<>();
        Plan plan = new Plan(mounts, mountPoints, created);
        try {
            for (Request request : requests) {
                switch (request.type()) {
                    case "bind" -> {
                        if (request.createSource()) {
                            Files.createDirectories(Path.of(request.source()));
                        }
                        mounts.add(new RuntimeSpec.Mount(request.destination(), "bind", request.source(),
                                bindOptions(request)));
                        mountPoints.add(new MountPoint("bind", null, request.source(), request.destination(), null,
                                request.mode(), !request.readOnly(), request.propagation()));
                    }
                    case "volume" -> {
                        String name = request.source();
                        boolean exists = name != null && volumes.exists(name);
                        String volume = volumes.create(name, request.labels(), Map.of()).name();
                        if (!exists) {
                            created.add(volume);
                        }
                        Path data = volumes.dataDirectory(volume);
                        if (idMap != null) {
                            claimIfEmpty(data, idMap);
                        }
                        // A tmpfs or bind volume is mounted only when the container starts: nothing to fill now.
                        if (!request.noCopy() && volumes.inspect(volume).options().isEmpty()) {
                            copyUp(rootfs, request.destination(), data);
                        }
                        mounts.add(new RuntimeSpec.Mount(request.destination(), "bind", data.toString(),
                                bindOptions(request)));
                        mountPoints.add(new MountPoint("volume", volume, data.toString(), request.destination(),
                                "local", request.mode(), !request.readOnly(), ""));
                    }
                    case "tmpfs" -> {
                        mounts.add(new RuntimeSpec.Mount(request.destination(), "tmpfs", "tmpfs",
                                request.tmpfsOptions()));
                        if (request.mode() != null) { // --mount type=tmpfs; Docker does not list --tmpfs ones
                            mountPoints.add(new MountPoint("tmpfs", null, "", request.destination(), null, "",
                                    !request.readOnly(), ""));
                        }
                    }
                    default -> throw new IllegalStateException(request.type());
                }
            }
        } catch (IOException | RuntimeException e) {
            try {
                undo(plan);
            } catch (IOException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return plan;
    }

    private static List<String> bindOptions(Request request) {
        String propagation = request.propagation().isEmpty() ? "rprivate" : request.propagation();
        return List.of("rbind", propagation, request.readOnly() ? "ro" : "rw");
    }

    /**
     * Fills an empty volume with what the image has at its path (a directory), keeping modes, owners, times,
     * links, hard links and xattrs ({@code cp -a}), the directory's own too. A volume with content is never touched.
     */
    private static void copyUp(Path rootfs, String destination, Path data) throws IOException {
        if (rootfs == null || !isEmptyDirectory(data)) {
            return;
        }
        Path source = new ContainerPaths(rootfs, List.of()).resolve(destination, true).hostPath();
        if (!Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS) || isEmptyDirectory(source)) {
            return;
        }
        Commands.check(List.of("cp", "-a", "--", source + "/.", data.toString()), null, COPY_TIMEOUT);
    }

    /** An empty directory owned by the host's root goes to the container's root (copy-up may then change it). */
    private static void claimIfEmpty(Path data, IdMap idMap) throws IOException {
        if (isEmptyDirectory(data) && Files.getAttribute(data, "unix:uid").equals(0)
                && Files.getAttribute(data, "unix:gid").equals(0)) {
            IdShift.chownToHost(data, 0, 0, idMap);
        }
    }

    private static boolean isEmptyDirectory(Path dir) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            return !entries.iterator().hasNext();
        }
    }

    // --- parsing --------------------------------------------------------------------------------

    /** {@code -v [SOURCE:]DESTINATION[:MODE]}: a bind (absolute source), a named volume, or an anonymous one. */
    private static Request parseBind(String raw) {
        String[] parts = raw.split(":", -1);
        if (parts.length > 3 || parts[0].isEmpty()) {
            throw invalidSpec(raw, null);
        }
        String source = null;
        String destination;
        String mode = "";
        if (parts.length == 1) {
            destination = parts[0];
        } else if (parts.length == 2) {
            if (isValidMode(parts[1])) {
                throw invalidSpec(raw, null); // a mode without a source: an anonymous volume cannot have one
            }
            source = parts[0];
            destination = parts[1];
        } else {
            source = parts[0];
            destination = parts[1];
            mode = parts[2];
            if (!isValidMode(mode)) {
                throw new IllegalArgumentException("invalid mode: " + mode);
            }
        }
        boolean bind = source != null && source.startsWith("/");
        String type = bind ? "bind" : "volume";
        checkDestination(destination, type, raw);
        List<String> modes = mode.isEmpty() ? List.of() : List.of(mode.split(","));
        String propagation = modes.stream().filter(PROPAGATION_MODES::contains).findFirst().orElse("");
        boolean noCopy = modes.contains("nocopy");
        if (bind) {
            if (noCopy) {
                throw invalidSpec(raw, mountConfig(type, "field VolumeOptions must not be specified").getMessage());
            }
            return new Request("bind", clean(source), clean(destination), modes.contains("ro"), false, mode,
                    propagation.isEmpty() ? "rprivate" : propagation, null, null, !Files.exists(Path.of(source)));
        }
        if (!propagation.isEmpty()) {
            throw invalidSpec(raw, mountConfig(type, "field BindOptions must not be specified").getMessage());
        }
        if (source != null) {
            LocalVolumes.checkName(source);
        }
        return new Request("volume", source, clean(destination), modes.contains("ro"), noCopy,
                mode.isEmpty() ? "z" : mode, "", null, null, false);
    }

    /** {@code --mount type=bind|volume|tmpfs,...} as the API sends it. */
    private static Request parseMount(MountRequest mount) {
        String type = mount.type() == null ? "" : mount.type();
        String source = mount.source() == null ? "" : mount.source();
        String target = mount.target() == null ? "" : mount.target();
        if (target.isEmpty()) {
            throw mountConfig(type, "field Target must not be empty");
        }
        String badTarget = destinationProblem(target);
        if (badTarget != null) {
            throw mountConfig(type, badTarget);
        }
        if (!List.of("bind", "volume", "tmpfs").contains(type)) {
            throw mountConfig(type, "mount type unknown");
        }
        if (!type.equals("volume") && mount.volumeOptions() != null) {
            throw mountConfig(type, "field VolumeOptions must not be specified");
        }
        if (!type.equals("tmpfs") && mount.tmpfsOptions() != null) {
            throw mountConfig(type, "field TmpfsOptions must not be specified");
        }
        String destination = clean(target);
        String mode = mount.readOnly() ? "ro" : "";
        switch (type) {
            case "bind" -> {
                if (source.isEmpty()) {
                    throw mountConfig(type, "field Source must not be empty");
                }
                if (!source.startsWith("/")) {
                    throw mountConfig(type, "invalid mount path: '" + source + "' mount path must be absolute");
                }
                if (!Files.exists(Path.of(source))) {
                    throw mountConfig(type, "bind source path does not exist: " + source);
                }
                return new Request("bind", clean(source), destination, mount.readOnly(), false, "", "rprivate",
                        null, null, false);
            }
            case "volume" -> {
                if (!source.isEmpty()) {
                    LocalVolumes.checkName(source);
                } else if (mount.readOnly()) {
                    throw mountConfig(type, "must not set ReadOnly mode when using anonymous volumes");
                }
                var options = mount.volumeOptions();
                return new Request("volume", source.isEmpty() ? null : source, destination, mount.readOnly(),
                        options != null && options.noCopy(), "", "", null,
                        options == null ? null : options.labels(), false);
            }
            default -> {
                if (!source.isEmpty()) {
                    throw mountConfig(type, "field Source must not be specified");
                }
                List<String> options = new ArrayList<>(TMPFS_DEFAULTS);
                if (mount.readOnly()) {
                    options.add("ro");
                }
                var tmpfs = mount.tmpfsOptions();
                if (tmpfs != null && tmpfs.sizeBytes() < 0) {
                    throw mountConfig(type, "invalid tmpfs size: " + tmpfs.sizeBytes());
                }
                if (tmpfs != null && tmpfs.mode() != 0) {
                    options.add("mode=" + Integer.toOctalString(tmpfs.mode()));
                }
                if (tmpfs != null && tmpfs.sizeBytes() > 0) {
                    options.add("size=" + size(tmpfs.sizeBytes()));
                }
                return new Request("tmpfs", null, destination, mount.readOnly(), false, "", "",
                        mergeTmpfsOptions(options), null, false);
            }
        }
    }

    /** {@code --tmpfs DESTINATION[:OPTIONS]}, in the API a map of destination to options. */
    private static Request parseTmpfs(String destination, String options) {
        String problem = destinationProblem(destination);
        if (problem != null) {
            throw new IllegalArgumentException(problem); // Docker says it without the mount config around it
        }
        List<String> all = new ArrayList<>(TMPFS_DEFAULTS);
        if (options != null && !options.isEmpty()) {
            all.addAll(List.of(options.split(",")));
        }
        return new Request("tmpfs", null, clean(destination), false, false, null, "", mergeTmpfsOptions(all), null,
                false); // no mode: not listed in inspect
    }

    /** Docker's {@code MergeTmpfsOptions}: a later flag or {@code key=value} overrides an earlier one of its kind. */
    static List<String> mergeTmpfsOptions(List<String> options) {
        Map<String, String> byKind = new LinkedHashMap<>();
        for (String option : options) {
            if (option.equals("defaults") || option.isEmpty()) {
                continue;
            }
            String kind = FLAG_KINDS.get(option);
            if (kind == null) {
                int equals = option.indexOf('=');
                String key = equals < 0 ? option : option.substring(0, equals);
                if (equals < 0 || !TMPFS_DATA.contains(key)) {
                    throw new IllegalArgumentException("invalid tmpfs option [\"" + String.join("\" \"", option.split("=", 2)) + "\"]");
                }
                kind = "data:" + key;
            }
            byKind.remove(kind); // keep the later one, at the later place
            byKind.put(kind, option);
        }
        return List.copyOf(byKind.values());
    }

    private static final Set<String> TMPFS_DATA = Set.of("size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol");
    private static final Map<String, String> FLAG_KINDS = new HashMap<>();

    static {
        String[][] pairs = {{"ro", "rw"}, {"suid", "nosuid"}, {"dev", "nodev"}, {"exec", "noexec"},
                {"sync", "async"}, {"dirsync"}, {"remount"}, {"mand", "nomand"}, {"atime", "noatime"},
                {"diratime", "nodiratime"}, {"bind"}, {"rbind"}, {"relatime", "norelatime"},
                {"strictatime", "nostrictatime"},
                {"private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable"}};
        for (String[] pair : pairs) {
            for (String flag : pair) {
                FLAG_KINDS.put(flag, "flag:" + pair[0]);
            }
        }
    }

    private static String size(long bytes) {
        for (String[] unit : new String[][] {{"g", "1073741824"}, {"m", "1048576"}, {"k", "1024"}}) {
            long factor = Long.parseLong(unit[1]);
            if (bytes % factor == 0) {
                return bytes / factor + unit[0];
            }
        }
        return Long.toString(bytes);
    }

    /** Every comma-separated mode is known and each kind (rw/ro, z/Z, propagation, nocopy, consistency) given once. */
    private static boolean isValidMode(String mode) {
        if (mode.isEmpty()) {
            return true;
        }
        int[] counts = new int[MODE_KINDS.size()];
        for (String part : mode.split(",", -1)) {
            boolean known = false;
            for (int kind = 0; kind < MODE_KINDS.size(); kind++) {
                if (MODE_KINDS.get(kind).contains(part)) {
                    known = true;
                    if (++counts[kind] > 1) {
                        return false;
                    }
                }
            }
            if (!known) {
                return false;
            }
        }
        return true;
    }

    private static void checkDestination(String destination, String type, String raw) {
        String problem = destination.isEmpty() ? "field Target must not be empty" : destinationProblem(destination);
        if (problem != null) {
            throw invalidSpec(raw, mountConfig(type, problem).getMessage());
        }
    }

    /** What is wrong with a mount's path in the container, in Docker's words, or null. */
    private static String destinationProblem(String destination) {
        if (clean(destination).equals("/") && destination.startsWith("/")) {
            return "invalid specification: destination can't be '/'";
        }
        if (!destination.startsWith("/")) {
            return "invalid mount path: '" + destination + "' mount path must be absolute";
        }
        return null;
    }

    private static IllegalArgumentException invalidSpec(String raw, String why) {
        return new IllegalArgumentException("invalid volume specification: '" + raw + "'" + (why == null ? "" : ": " + why));
    }

    private static IllegalArgumentException mountConfig(String type, String why) {
        return new IllegalArgumentException("invalid mount config for type \"" + type + "\": " + why);
    }

    /** The absolute path without {@code .}, {@code ..}, doubled or trailing slashes. */
    private static String clean(String path) {
        List<String> parts = new ArrayList<>();
        for (String part : ContainerPaths.parts(path)) {
            if (part.equals("..")) {
                if (!parts.isEmpty()) {
                    parts.remove(parts.size() - 1);
                }
            } else {
                parts.add(part);
            }
        }
        return "/" + String.join("/", parts);
    }
}
