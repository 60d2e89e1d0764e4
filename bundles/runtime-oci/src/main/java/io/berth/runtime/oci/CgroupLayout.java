package io.berth.runtime.oci;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How the host mounts cgroups, which decides what a runtime can do here: crun refuses a v1 host whose v2 mount
 * has controllers ("hybrid") unless it runs in a private mount namespace without that mount.
 */
enum CgroupLayout {
    /** Only cgroup v2 at {@code /sys/fs/cgroup}. */
    UNIFIED,
    /** cgroup v1 controllers with a v2 mount at {@code /sys/fs/cgroup/unified}. */
    HYBRID,
    /** cgroup v1 only. */
    LEGACY;

    static final Path ROOT = Path.of("/sys/fs/cgroup");

    static CgroupLayout detect() {
        return detect(ROOT);
    }

    static CgroupLayout detect(Path root) {
        if (Files.exists(root.resolve("cgroup.controllers"))) {
            return UNIFIED;
        }
        return Files.exists(root.resolve("unified").resolve("cgroup.controllers")) ? HYBRID : LEGACY;
    }

    /**
     * The runtime to use when daemon.json names none: crun where cgroup v2 is all there is (it is faster and
     * v2-native), runc on v1 and hybrid hosts, where it works unmodified.
     */
    static String defaultRuntime() {
        return detect() == UNIFIED ? "crun" : "runc";
    }

    /** The container's cgroup path below each hierarchy, as given in {@code linux.cgroupsPath}. */
    static String pathOf(String id) {
        return "/berth/" + id;
    }
}
