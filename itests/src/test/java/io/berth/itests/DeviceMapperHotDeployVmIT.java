package io.berth.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Hot deploy of the devicemapper driver, where device-mapper is: one QEMU VM
 * ({@code itests/vm/boot-vm.sh}, with dm-thin loaded) runs the full
 * distribution's daemon without the devicemapper bundle, imports an image into
 * vfs, then gets a pool's {@code .cfg} and the bundle in {@code deploy/}; the
 * same daemon then uses the driver ({@code berth:storage-use}) and moves the
 * image there ({@code berth:storage-migrate}).
 * Needs what DeviceMapperVmTest needs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeviceMapperHotDeployVmIT {

    private static final Path HARNESS = Path.of("vm/boot-vm.sh");
    private static final Path JAVA_HOME = Path.of(System.getProperty("java.home"));
    private static final List<String> TOOLS = List.of("/usr/sbin/dmsetup", "/usr/sbin/thin_check",
            "/usr/sbin/mkfs.ext4", "/usr/sbin/losetup", "/etc/mke2fs.conf", "/usr/bin/touch", "/usr/bin/getfattr",
            "/usr/bin/setfattr", "/usr/bin/sh=/usr/bin/dash");

    private final Map<String, String> facts = new HashMap<>();
    private String console;
    private int status;

    @BeforeAll
    void runTheVm() throws Exception {
        Path distribution = DistributionBundles.distribution().toAbsolutePath();
        Path work = Files.createTempDirectory(Path.of("/var/tmp"), "berth-dm-hot-deploy-");
        try {
            Path script = work.resolve("script.sh");
            try (InputStream body = getClass().getResourceAsStream("devicemapper-hot-deploy-vm.sh")) {
                Files.writeString(script, "DIST=" + distribution + "\nJAVA_HOME=" + JAVA_HOME + "\n"
                        + new String(body.readAllBytes(), StandardCharsets.UTF_8));
            }
            List<String> command = new ArrayList<>(List.of(HARNESS.toString(), "-t", "280", "-m", "2560",
                    "-j", JAVA_HOME.toString(), "-k", "crc32c_generic", "-k", "dm-thin-pool", "-k", "loop",
                    "-k", "ext4", "-f", distribution + "=" + distribution));
            for (String tool : TOOLS) {
                command.addAll(List.of("-f", tool.contains("=") ? tool : tool + "=" + tool));
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
            console = new String(output, StandardCharsets.UTF_8);
            status = vm.exitValue();
            Files.writeString(Path.of("target/devicemapper-hot-deploy-vm-console.txt"), console);
            System.out.printf("devicemapper hot-deploy VM: %d ms, status %d%n",
                    (System.nanoTime() - started) / 1_000_000, status);
            for (String line : console.split("\n")) {
                if (line.startsWith("FACT ") && line.contains("=")) {
                    facts.put(line.substring(5, line.indexOf('=')), line.substring(line.indexOf('=') + 1).trim());
                }
            }
        } finally {
            try (var paths = Files.walk(work)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(path);
                }
            }
        }
    }

    private String fact(String name) {
        String value = facts.get(name);
        assertTrue(value != null, "the VM reported no " + name + " (status " + status + "); console:\n" + console);
        return value;
    }

    @Test
    void theDroppedBundleBecomesAnActiveDriverOfTheRunningDaemon() {
        assertEquals("0", fact("devicemapper-before"), "the daemon started without the bundle");
        assertTrue(fact("devicemapper-after").matches("storage devicemapper \\S+ ACTIVE.*"), fact("devicemapper-after"));
        assertEquals("yes", fact("same-daemon"), "no restart");
        assertEquals("1", fact("pool"), "the loop-backed pool of the .cfg");
    }

    @Test
    void theRunningDaemonMovesItsImageThere() {
        assertTrue(fact("use").contains("now use storage driver devicemapper"), fact("use"));
        assertTrue(fact("migrate").matches("moved [1-9][0-9]* layer\\(s\\) to storage driver devicemapper"),
                fact("migrate"));
        assertTrue(fact("layers").contains("New layers go to: devicemapper"), fact("layers"));
        assertTrue(fact("layers").matches(".*\\|[0-9a-f]{12} devicemapper .*"), fact("layers"));
        assertEquals("0", fact("daemon-exit"), "the daemon stops cleanly");
    }
}
