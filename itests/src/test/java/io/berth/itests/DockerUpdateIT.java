package io.berth.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code docker update} and {@code berth:update}: limits reach a running container's cgroups at once (read here
 * from the kernel's files), are stored so inspect shows them and a restart keeps them, and a stopped container
 * just keeps them for its next start.
 */
class DockerUpdateIT {

    private static final String LIMITS = "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.NanoCpus}}"
            + " {{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}"
            + ":{{.HostConfig.RestartPolicy.MaximumRetryCount}}";

    @TempDir
    Path dir;

    private BerthDaemon daemon;
    private DockerCli cli;

    @BeforeEach
    void startDaemon() throws Exception {
        daemon = BerthDaemon.start(DistributionBundles.distribution(), dir.resolve("daemon"));
        cli = DockerCli.overSocket(daemon);
        DockerCli.importBusybox(dir, daemon);
    }

    @AfterEach
    void stopDaemon() throws Exception {
        try {
            if (daemon.process.isAlive()) {
                cli.docker("rm", "-f", "limited", "idle");
            }
        } finally {
            daemon.close();
        }
    }

    @Test
    void aRunningContainersLimitsChangeAtOnceAndStayThroughARestart() throws Exception {
        cli.ok("run", "-d", "--name", "limited", "itest/busybox:1", "sleep", "300");
        assertEquals("limited\n", cli.ok("update", "--memory", "64m", "--memory-swap", "128m", "--cpus", "0.5",
                "--cpu-shares", "512", "--pids-limit", "20", "--restart", "on-failure:3", "limited").stdout());
        assertLimits("limited", "67108864", "134217728", "50000", "512", "20");
        String stored = "67108864 134217728 500000000 512 20 on-failure:3\n";
        assertEquals(stored, cli.ok("inspect", "-f", LIMITS, "limited").stdout());

        cli.ok("restart", "-t", "1", "limited");
        assertLimits("limited", "67108864", "134217728", "50000", "512", "20");
        assertEquals(stored, cli.ok("inspect", "-f", LIMITS, "limited").stdout());

        // what Docker refuses changes nothing
        Commands.Result tooSmall = cli.docker("update", "--memory", "1m", "limited");
        assertNotEquals(0, tooSmall.exitCode());
        assertTrue(tooSmall.stderr().contains("Minimum memory limit allowed is 6MB"), tooSmall::toString);
        Commands.Result aboveSwap = cli.docker("update", "--memory", "256m", "limited");
        assertTrue(aboveSwap.stderr().contains("Memory limit should be smaller than already set memoryswap limit"),
                aboveSwap::toString);
        Commands.Result badPolicy = cli.docker("update", "--restart", "sometimes", "limited");
        assertNotEquals(0, badPolicy.exitCode(), badPolicy::toString);
        assertEquals(stored, cli.ok("inspect", "-f", LIMITS, "limited").stdout());
        assertLimits("limited", "67108864", "134217728", "50000", "512", "20");

        // the shell's update, and -1 lifting the pids limit
        Commands.Result shell = daemon.shell("berth:update --cpus 1.5 --pids-limit -1 limited");
        assertEquals(0, shell.exitCode(), shell::toString);
        assertEquals("max", cgroupFile("limited", "pids", "pids.max", "pids.max"));
        assertEquals("150000", quota("limited"));
        assertEquals("67108864 134217728 1500000000 512 0 on-failure:3\n",
                cli.ok("inspect", "-f", LIMITS, "limited").stdout());
    }

    @Test
    void aStoppedContainerKeepsItsNewLimitsForItsNextStart() throws Exception {
        cli.ok("create", "--name", "idle", "itest/busybox:1", "sleep", "300");
        cli.ok("update", "--memory", "32m", "--pids-limit", "10", "--restart", "always", "idle");
        assertEquals("33554432 0 0 0 10 always:0\n", cli.ok("inspect", "-f", LIMITS, "idle").stdout());
        cli.ok("start", "idle");
        assertEquals("33554432", cgroupFile("idle", "memory", "memory.limit_in_bytes", "memory.max"));
        assertEquals("10", cgroupFile("idle", "pids", "pids.max", "pids.max"));

        cli.ok("rm", "-f", "idle");
        cli.ok("create", "--rm", "--name", "idle", "itest/busybox:1", "true");
        Commands.Result autoRemove = cli.docker("update", "--restart", "always", "idle");
        assertTrue(autoRemove.stderr().contains("Restart policy cannot be updated because AutoRemove is enabled"),
                autoRemove::toString);
        Commands.Result missing = cli.docker("update", "--memory", "32m", "nosuch");
        assertTrue(missing.stderr().contains("No such container: nosuch"), missing::toString);
    }

    private void assertLimits(String container, String memory, String memorySwap, String quota, String shares,
                              String pids) throws Exception {
        assertEquals(memory, cgroupFile(container, "memory", "memory.limit_in_bytes", "memory.max"));
        if (!unified()) { // cgroup v2 keeps swap apart (memory.swap.max); v1 limits memory plus swap
            String memsw = cgroupFile(container, "memory", "memory.memsw.limit_in_bytes", "memory.max");
            assertTrue(memsw.equals(memorySwap) || !Files.exists(Path.of("/sys/fs/cgroup/memory/memory.memsw."
                    + "limit_in_bytes")), "memory+swap: " + memsw);
        }
        assertEquals(quota, quota(container));
        if (!unified()) {
            assertEquals(shares, cgroupFile(container, "cpu", "cpu.shares", "cpu.weight"));
        }
        assertEquals(pids, cgroupFile(container, "pids", "pids.max", "pids.max"));
    }

    /** The CPU quota in microseconds per 100 ms period. */
    private String quota(String container) throws Exception {
        String value = cgroupFile(container, "cpu", "cpu.cfs_quota_us", "cpu.max");
        return value.split(" ")[0];
    }

    private static boolean unified() {
        return Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"));
    }

    /**
     * A cgroup file of the container's init process, found through {@code /proc/PID/cgroup}: {@code v1File} in
     * the hierarchy of {@code controller} on cgroup v1, {@code v2File} in the unified hierarchy.
     */
    private String cgroupFile(String container, String controller, String v1File, String v2File) throws Exception {
        String pid = cli.ok("inspect", "-f", "{{.State.Pid}}", container).stdout().strip();
        for (String line : Files.readAllLines(Path.of("/proc", pid, "cgroup"))) {
            String[] fields = line.split(":", 3);
            if (unified() && fields[0].equals("0")) {
                return Files.readString(Path.of("/sys/fs/cgroup" + fields[2], v2File)).strip();
            }
            if (!unified() && java.util.Arrays.asList(fields[1].split(",")).contains(controller)) {
                Path hierarchy = Path.of("/sys/fs/cgroup", controller);
                return Files.readString(Path.of(hierarchy + fields[2], v1File)).strip();
            }
        }
        throw new AssertionError("no " + controller + " cgroup for pid " + pid);
    }
}
