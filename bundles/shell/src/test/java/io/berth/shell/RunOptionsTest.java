package io.berth.shell;

import io.berth.spi.containers.HumanTime;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.spi.containers.ContainerConfig;
import io.berth.spi.containers.HostConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** docker run's flags, parsed as the shell parses them, become the Engine API request the docker CLI would send. */
class RunOptionsTest {

    private static RunOptions parse(String... args) {
        String[] withName = new String[args.length + 1];
        withName[0] = "run";
        System.arraycopy(args, 0, withName, 1, args.length);
        CommandLine.ParseResult parsed = ShellCommands.parser(new ContainerCli(null, null)).parseArgs(withName);
        return (RunOptions) parsed.subcommand().commandSpec().mixins().values().stream()
                .map(mixin -> mixin.userObject()).filter(RunOptions.class::isInstance).findFirst().orElseThrow();
    }

    @Test
    void flagsBecomeConfigAndHostConfig() throws Exception {
        RunOptions options = parse("-d", "--name", "web", "-e", "A=1", "--env=B=2", "-l", "tier=front",
                "-v", "/srv:/data:ro", "--mount", "type=tmpfs,target=/scratch,tmpfs-size=64m,tmpfs-mode=1770",
                "--tmpfs", "/run:size=1m", "-m", "512m", "--memory-swap", "-1", "--cpus", "1.5", "-c", "512",
                "--pids-limit", "100", "--restart", "on-failure:3", "-p", "127.0.0.1:8080:80", "-p", "53:53/udp",
                "--entrypoint", "", "-w", "/srv", "-u", "nobody", "--read-only", "--cap-add", "NET_ADMIN",
                "--security-opt", "no-new-privileges", "--network", "none", "--shm-size", "1g",
                "busybox", "sh", "-c", "echo hi");
        ContainerConfig config = options.config();
        HostConfig host = options.hostConfig();
        assertTrue(options.detach);
        assertEquals("web", options.name);
        assertEquals("busybox", config.image());
        assertEquals(List.of("sh", "-c", "echo hi"), config.cmd(), "everything after the image is the command");
        assertEquals(List.of(""), config.entrypoint(), "--entrypoint \"\" clears the image's, as the CLI sends it");
        assertEquals(List.of("A=1", "B=2"), config.env());
        assertEquals(Map.of("tier", "front"), config.labels());
        assertEquals("/srv", config.workingDir());
        assertEquals("nobody", config.user());
        assertFalse(config.attachStdout(), "-d attaches nothing");
        assertEquals(java.util.Set.of("80/tcp", "53/udp"), config.exposedPorts().keySet());
        assertEquals(List.of("/srv:/data:ro"), host.binds());
        HostConfig.MountRequest tmpfs = host.mounts().get(0);
        assertEquals("tmpfs", tmpfs.type());
        assertEquals("/scratch", tmpfs.target());
        assertEquals(64L << 20, tmpfs.tmpfsOptions().sizeBytes());
        assertEquals(01770, tmpfs.tmpfsOptions().mode());
        assertEquals(Map.of("/run", "size=1m"), host.tmpfs());
        assertEquals(512L << 20, host.memory());
        assertEquals(-1, host.memorySwap());
        assertEquals(1_500_000_000L, host.nanoCpus());
        assertEquals(512, host.cpuShares());
        assertEquals(100L, host.pidsLimit());
        assertEquals(new HostConfig.RestartPolicy("on-failure", 3), host.restartPolicy());
        assertEquals(List.of(new HostConfig.PortBinding("127.0.0.1", "8080")), host.portBindings().get("80/tcp"));
        assertEquals(List.of(new HostConfig.PortBinding("", "53")), host.portBindings().get("53/udp"));
        assertTrue(host.readonlyRootfs());
        assertEquals(List.of("NET_ADMIN"), host.capAdd());
        assertEquals(List.of("no-new-privileges"), host.securityOpt());
        assertEquals("none", host.networkMode());
        assertEquals(1L << 30, host.shmSize());
    }

    @Test
    void optionsStopAtTheImage() throws Exception {
        RunOptions options = parse("--rm", "busybox", "ls", "-l", "--name", "x");
        assertNull(options.name, "--name after the image belongs to the command");
        assertEquals(List.of("ls", "-l", "--name", "x"), options.config().cmd());
        assertTrue(options.hostConfig().autoRemove());
        assertNull(parse("busybox").config().cmd(), "no command: the image's");
        assertNull(parse("busybox").config().entrypoint(), "no --entrypoint: the image's");
    }

    @Test
    void badFlagsSayWhatIsWrong() {
        assertEquals("invalid argument \"lots\" for \"-m, --memory\" flag: invalid size: 'lots'",
                assertThrows(IllegalArgumentException.class, () -> parse("-m", "lots", "busybox").hostConfig())
                        .getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> parse("--restart", "sometimes", "busybox").hostConfig()).getMessage()
                .startsWith("invalid restart policy sometimes"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> parse("--restart", "always:3", "busybox").hostConfig()).getMessage()
                .contains("only be used with 'on-failure'"));
        assertEquals("Conflicting options: --restart and --rm", assertThrows(IllegalArgumentException.class,
                () -> parse("--rm", "--restart", "always", "busybox").hostConfig()).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> parse("--cpus", "two", "busybox").hostConfig()).getMessage().contains("--cpus"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> parse("-p", "80:http", "busybox").config()).getMessage().contains("-p, --publish"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> parse("--mount", "type=bind,source=/a", "busybox").hostConfig()).getMessage()
                .contains("target is required"));
        assertThrows(CommandLine.UnmatchedArgumentException.class, () -> parse("--bogus", "busybox"));
        assertThrows(CommandLine.MissingParameterException.class, () -> parse("-d"));
    }

    @Test
    void sizesAreBinaryAsTheCliReadsThem() {
        assertEquals(512, ByteSizes.parse("512", "f"));
        assertEquals(1536, ByteSizes.parse("1.5k", "f"));
        assertEquals(2L << 30, ByteSizes.parse("2G", "f"));
        assertEquals(3L << 20, ByteSizes.parse("3MiB", "f"));
        assertEquals("1KiB", Sizes.binary(1024));
        assertEquals("1.5MiB", Sizes.binary(3 << 19));
    }

    @Test
    void psWordsTimesAsTheCliDoes() {
        java.time.Instant now = java.time.Instant.parse("2026-01-01T12:00:00Z");
        assertEquals("Less than a second", HumanTime.duration(java.time.Duration.ofMillis(300)));
        assertEquals("About a minute", HumanTime.duration(java.time.Duration.ofSeconds(90)));
        assertEquals("3 hours", HumanTime.duration(java.time.Duration.ofHours(3)));
        assertEquals("5 seconds ago", HumanTime.ago("2026-01-01T11:59:55Z", now));
        assertEquals("", HumanTime.ago(HumanTime.ZERO, now));
        assertEquals("\"sleep 1000\"", "\"" + ContainerCli.ellipsis("sleep 1000", 20) + "\"");
        assertEquals("/docker-entrypoint.…", ContainerCli.ellipsis("/docker-entrypoint.sh nginx", 20));
        assertEquals(now.minusSeconds(600), ContainerCli.time("10m", now, "--since"));
        assertEquals(java.time.Instant.ofEpochSecond(1700000000, 500_000_000), ContainerCli.time("1700000000.5", now, "--since"));
        assertThrows(IllegalArgumentException.class, () -> ContainerCli.time("yesterday", now, "--since"));
    }
}
