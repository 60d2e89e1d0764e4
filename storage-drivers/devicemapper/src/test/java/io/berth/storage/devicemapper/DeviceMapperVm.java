package io.berth.storage.devicemapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throwaway QEMU VM with Debian's kernel ({@code itests/vm/boot-vm.sh}) that
 * loads device-mapper, dm-thin, loop, ext4 and xfs and runs a Java main class
 * on this JVM and class path ({@code devicemapper-vm.sh}), as root: this host's
 * kernel has no device-mapper. The JDK, the class path and the tools are
 * copied into the guest at their host paths. Needs qemu-system-x86,
 * linux-image-amd64, cpio, xz-utils, busybox-static, dmsetup,
 * thin-provisioning-tools, e2fsprogs, xfsprogs and attr.
 */
final class DeviceMapperVm {

    private static final Path HARNESS = Path.of("../../itests/vm/boot-vm.sh");
    private static final Path JAVA_HOME = Path.of(System.getProperty("java.home"));
    /**
     * The tools the driver and its tests run in the guest, at their host paths, where the guest's {@code PATH}
     * finds them before busybox's applets: util-linux's losetup, coreutils' touch ({@code -d @EPOCH.NANOS}) and
     * dash as {@code sh}, since busybox's sh runs its own applets whatever {@code PATH} says.
     */
    private static final List<String> TOOLS = List.of("/usr/sbin/dmsetup", "/usr/sbin/thin_check",
            "/usr/sbin/mkfs.ext4", "/usr/sbin/mkfs.xfs", "/usr/sbin/losetup", "/etc/mke2fs.conf",
            "/usr/bin/getfattr", "/usr/bin/setfattr", "/usr/bin/touch", "/usr/bin/sh=/usr/bin/dash");
    /** dm-thin, loop and the filesystems, with what they need; crc32c first: libcrc32c asks the crypto API for it. */
    private static final List<String> MODULES = List.of("crc32c_generic", "dm-thin-pool", "loop", "ext4", "xfs");

    /** What the VM did: the harness's exit status (the script's), its console, and how long it all took. */
    record Outcome(int status, String console, long millis) {
    }

    private DeviceMapperVm() {
    }

    /** Runs {@code main} with {@code args} in the VM, which is killed after {@code seconds}. */
    static Outcome run(Class<?> main, List<String> args, int seconds) throws IOException, InterruptedException {
        Path work = Files.createTempDirectory(Path.of("/var/tmp"), "berth-devicemapper-");
        try {
            List<String> classPath = List.of(System.getProperty("surefire.test.class.path",
                    System.getProperty("java.class.path")).split(":"));
            Path script = work.resolve("script.sh");
            try (InputStream body = DeviceMapperVm.class.getResourceAsStream("devicemapper-vm.sh")) {
                Files.writeString(script, "JAVA=" + JAVA_HOME.resolve("bin/java") + "\nCLASSPATH=" + String.join(":", classPath)
                        + "\nMAIN=" + main.getName() + "\nARGS='" + String.join(" ", args) + "'\n"
                        + new String(body.readAllBytes(), StandardCharsets.UTF_8));
            }
            if (!Files.isExecutable(HARNESS)) {
                throw new IllegalStateException("the VM harness " + HARNESS.toAbsolutePath() + " is missing");
            }
            List<String> command = new ArrayList<>(List.of(HARNESS.toString(), "-t", Integer.toString(seconds),
                    "-m", "2560", "-j", JAVA_HOME.toString()));
            MODULES.forEach(module -> command.addAll(List.of("-k", module)));
            List<String> shared = new ArrayList<>(TOOLS);
            shared.addAll(classPath);
            for (String path : shared) {
                command.addAll(List.of("-f", path.contains("=") ? path : path + "=" + path));
            }
            command.add(script.toString());
            long started = System.nanoTime();
            Process vm = new ProcessBuilder(command).redirectErrorStream(true).start();
            vm.getOutputStream().close();
            byte[] output = vm.getInputStream().readAllBytes(); // ends when the harness does: it has its own limit
            if (!vm.waitFor(30, TimeUnit.SECONDS)) {
                vm.destroy(); // the harness kills its qemu on TERM
                throw new IllegalStateException("the VM harness did not end");
            }
            return new Outcome(vm.exitValue(), new String(output, StandardCharsets.UTF_8),
                    (System.nanoTime() - started) / 1_000_000);
        } finally {
            try (Stream<Path> paths = Files.walk(work)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(path);
                }
            }
        }
    }
}
