package io.berth.runtime.oci;

import io.berth.spi.runtime.ContainerIo;
import io.berth.spi.runtime.ContainerState;
import io.berth.spi.runtime.ResourceUsage;
import io.berth.spi.runtime.RuntimeSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs on the JVM inside {@link CgroupV2VmTest}'s VM: berth's own {@link ConmonRuntime}, made as the component
 * makes it, on a pure cgroup v2 host. Prints "FACT jvm.NAME=VALUE" lines for the test to judge.
 *
 * <p>Arguments: a writable directory, the busybox rootfs (with the VM script's {@code /hog.sh}), the runtimes.
 */
final class CgroupV2Guest {

    private CgroupV2Guest() {
    }

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        Path rootfs = Path.of(args[1]);
        fact("default-runtime", OciRuntimes.defaultRuntime());
        for (String name : List.of(args).subList(2, args.length)) {
            try (ConmonRuntime runtime = OciRuntimes.create(name, OciRuntimes.find(name).orElseThrow(),
                    work.resolve("data"), work.resolve("run-" + name))) {
                fact(name + ".status", runtime.status().details().get("Cgroups"));
                run(runtime, name + "-jvm-limits", rootfs, List.of("sleep", "600"),
                        new RuntimeSpec.Resources(CgroupV2VmTest.MEMORY, 0, 0, 0, CgroupV2VmTest.PIDS), true);
                run(runtime, name + "-jvm-oom", rootfs, List.of("sh", "/hog.sh"),
                        new RuntimeSpec.Resources(CgroupV2VmTest.HOG_MEMORY, 0, 0, 0, 0), false);
            }
        }
        System.out.println("FACT jvm.done=yes");
    }

    /** Creates and starts a container; kills the running one after reading its usage; reports its end. */
    private static void run(ConmonRuntime runtime, String id, Path rootfs, List<String> command,
            RuntimeSpec.Resources resources, boolean kill) throws Exception {
        runtime.create(id, CgroupV2VmTest.spec(id, rootfs, command, resources), new ContainerIo(runtime.stateRoot().resolve(id + ".log"), 0, false));
        runtime.start(id);
        if (kill) {
            ContainerState running = runtime.state(id);
            fact(id + ".state", running.status());
            fact(id + ".processes-are-init", runtime.processes(id).equals(List.of(running.pid())));
            ResourceUsage usage = runtime.usage(id);
            fact(id + ".usage.memory-limit", usage.memoryLimit());
            fact(id + ".usage.pids", usage.pids());
            fact(id + ".usage.memory-positive", usage.memoryBytes() > 0);
            fact(id + ".usage.cpu-positive", usage.cpuNanos() > 0);
            runtime.kill(id, 9);
        }
        ContainerState exited = runtime.exit(id).get(60, TimeUnit.SECONDS);
        fact(id + ".exit-code", exited.exitCode());
        fact(id + ".oom-killed", exited.oomKilled());
        runtime.delete(id, false);
        fact(id + ".cgroup-after-delete", Cgroups.exists(CgroupLayout.pathOf(id)) ? "present" : "gone");
    }

    private static void fact(String name, Object value) {
        System.out.println("FACT jvm." + name + "=" + value);
    }
}
