package io.berth.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.spi.containers.Container;
import io.berth.spi.containers.ContainerService;
import io.berth.spi.images.ImageDiskUsage;
import io.berth.spi.images.ImageStore;
import io.berth.spi.volumes.Volume;
import io.berth.spi.volumes.VolumeService;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import io.berth.spi.images.LayerStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jetty.http.HttpStatus;

/** {@code GET /info}: what {@code docker info} prints, from the services that are running. */
final class SystemEndpoints {

    private final String version;
    private final String dataRoot;
    private final Service<ContainerService> containers;
    private final Service<ImageStore> images;
    private final Service<LayerStore> layers;
    private final Service<VolumeService> volumes;

    SystemEndpoints(String version, String dataRoot, Service<ContainerService> containers,
                    Service<ImageStore> images, Service<LayerStore> layers, Service<VolumeService> volumes) {
        this.volumes = volumes;
        this.version = version;
        this.dataRoot = dataRoot;
        this.containers = containers;
        this.images = images;
        this.layers = layers;
    }

    void addTo(Routes routes) {
        routes.add("GET", "/info", this::info)
                .add("GET", "/system/df", this::diskUsage);
    }

    /** {@code docker system df}: images with their shared and unique sizes, containers, volumes with their use. */
    private void diskUsage(Exchange x) throws IOException {
        ObjectNode answer = Exchange.JSON.createObjectNode();
        ImageStore imageStore = images.orNull();
        ArrayNode imageList = answer.putArray("Images");
        if (imageStore != null) {
            ImageDiskUsage usage = imageStore.diskUsage();
            answer.put("LayersSize", usage.layersSize());
            for (ImageDiskUsage.Entry entry : usage.images()) {
                imageList.add(ImageEndpoints.summary(entry.image(), entry.sharedSize(), entry.containers()));
            }
        }
        ArrayNode containerList = answer.putArray("Containers");
        Map<String, Integer> volumeUsers = new TreeMap<>();
        ContainerService containerService = containers.orNull();
        if (containerService != null) {
            Instant now = Instant.now();
            for (Container c : containerService.list(true)) {
                containerList.add(ContainerEndpoints.summary(c, now));
                for (Container.MountPoint mount : c.mounts() == null ? List.<Container.MountPoint>of() : c.mounts()) {
                    if (mount.name() != null) {
                        volumeUsers.merge(mount.name(), 1, Integer::sum);
                    }
                }
            }
        }
        ArrayNode volumeList = answer.putArray("Volumes");
        VolumeService volumeService = volumes.orNull();
        if (volumeService != null) {
            for (Volume volume : volumeService.list()) {
                ObjectNode entry = Exchange.JSON.valueToTree(volume);
                entry.putObject("UsageData").put("Size", directorySize(Path.of(volume.mountpoint())))
                        .put("RefCount", volumeUsers.getOrDefault(volume.name(), 0));
                volumeList.add(entry);
            }
        }
        answer.putArray("BuildCache");
        x.json(HttpStatus.OK_200, answer);
    }

    /** Bytes of the regular files below {@code dir} (links not followed); -1 if it cannot be read. */
    private static long directorySize(Path dir) {
        try (var files = Files.walk(dir)) {
            return files.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
                    .mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException | java.io.UncheckedIOException e) {
            return -1;
        }
    }

    private void info(Exchange x) throws IOException {
        ObjectNode info = Exchange.JSON.createObjectNode();
        info.put("ID", hostId());
        int running = 0;
        int paused = 0;
        int stopped = 0;
        ContainerService containerService = containers.orNull();
        if (containerService != null) {
            for (Container c : containerService.list(true)) {
                if (c.state().paused()) {
                    paused++;
                } else if (c.state().running()) {
                    running++;
                } else {
                    stopped++;
                }
            }
        }
        info.put("Containers", running + paused + stopped).put("ContainersRunning", running)
                .put("ContainersPaused", paused).put("ContainersStopped", stopped);
        ImageStore imageStore = images.orNull();
        info.put("Images", imageStore == null ? 0 : imageStore.list().size());
        LayerStore layerStore = layers.orNull();
        info.put("Driver", layerStore == null ? "" : layerStore.currentDriver());
        info.putArray("DriverStatus");
        info.put("DockerRootDir", dataRoot);
        info.put("LoggingDriver", "k8s-file").put("CgroupDriver", "cgroupfs")
                .put("CgroupVersion", Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers")) ? "2" : "1");
        ObjectNode plugins = info.putObject("Plugins");
        plugins.putArray("Volume").add("local");
        plugins.putArray("Log").add("k8s-file");
        info.putObject("Swarm").put("LocalNodeState", "inactive");
        info.putArray("SecurityOptions").add("name=seccomp,profile=builtin");
        info.put("KernelVersion", read("/proc/sys/kernel/osrelease"));
        info.put("OperatingSystem", operatingSystem()).put("OSType", "linux")
                .put("Architecture", System.getProperty("os.arch").equals("amd64") ? "x86_64"
                        : System.getProperty("os.arch"));
        info.put("NCPU", Runtime.getRuntime().availableProcessors()).put("MemTotal", memTotal());
        info.put("Name", read("/proc/sys/kernel/hostname"));
        info.put("ServerVersion", version);
        info.put("Debug", false).put("ExperimentalBuild", false).put("LiveRestoreEnabled", true);
        info.putArray("Warnings");
        x.json(HttpStatus.OK_200, info);
    }

    private String hostId() {
        String machineId = read("/etc/machine-id");
        return machineId.isEmpty() ? "berth" : machineId;
    }

    private static String operatingSystem() {
        for (String line : read("/etc/os-release").split("\n")) {
            if (line.startsWith("PRETTY_NAME=")) {
                return line.substring("PRETTY_NAME=".length()).replace("\"", "");
            }
        }
        return "Linux";
    }

    /** The host's memory in bytes (/proc/meminfo), 0 if unknown. */
    static long memTotal() {
        for (String line : read("/proc/meminfo").split("\n")) {
            if (line.startsWith("MemTotal:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return 0;
    }

    private static String read(String file) {
        try {
            return Files.readString(Path.of(file)).trim();
        } catch (IOException e) {
            return "";
        }
    }
}
