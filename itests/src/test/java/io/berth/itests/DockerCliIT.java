package io.berth.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.network.testsuite.TestNamespaces;
import io.berth.network.testsuite.UdpEchoServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The docker CLI of this machine ({@code /usr/local/bin/docker}, else Debian's) against berthd, unchanged: the
 * Engine API, over the unix socket and over tcp:// with mutual TLS.
 */
class DockerCliIT {

    @TempDir
    Path dir;

    BerthDaemon daemon;

    @BeforeEach
    void startDaemon() throws Exception {
        daemon = launch(dir.resolve("daemon"));
        DockerCli.importBusybox(dir, daemon);
    }

    /** Starts a daemon of the distribution on {@code root}. */
    BerthDaemon launch(Path root, String... args) throws Exception {
        return launch(DistributionBundles.distribution(), root, args);
    }

    /** Starts a daemon of that copy of the distribution on {@code root}; a subclass adds its transport. */
    BerthDaemon launch(Path distribution, Path root, String... args) throws Exception {
        return BerthDaemon.start(distribution, root, args);
    }

    /** The docker CLI for {@code daemon}: over its unix socket here; a subclass picks another transport. */
    DockerCli connect(BerthDaemon daemon) {
        return DockerCli.overSocket(daemon);
    }

    @AfterEach
    void stopDaemon() throws Exception {
        try {
            if (daemon.process.isAlive()) {
                for (String id : docker("ps", "-aq").stdout().split("\\s+")) {
                    if (!id.isBlank()) {
                        docker("rm", "-f", id);
                    }
                }
            }
        } finally {
            daemon.close();
        }
    }

    private Commands.Result docker(String... args) throws Exception {
        return connect(daemon).docker(args);
    }

    private Commands.Result ok(String... args) throws Exception {
        return connect(daemon).ok(args);
    }

    private String diff(String container) {
        return quietly(() -> docker("diff", container).stdout());
    }

    private interface Probe {
        String get() throws Exception;
    }

    /** A probe for Await: a failure is an answer that does not match. */
    private static String quietly(Probe probe) {
        try {
            return probe.get();
        } catch (Exception e) {
            return e.toString();
        }
    }

    static int freePort() throws java.io.IOException {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Starts the daemon's registry server on a free port of 127.0.0.1 and returns the port. */
    private int startRegistry() throws Exception {
        int port = freePort();
        Commands.Result registry = daemon.shell("berth:registry-start --port " + port + " --root "
                + dir.resolve("registry"));
        assertEquals(0, registry.exitCode(), registry::toString);
        return port;
    }

    /** (Re)starts the test's daemon on its own data-root with the bridge driver on: default bridge {@code bcli0}. */
    private void startBridgeDaemon() throws Exception {
        startBridgeDaemon(DistributionBundles.distribution());
    }

    /** The same from another copy of the distribution (one whose deploy/ the test may change). */
    private void startBridgeDaemon(Path distribution) throws Exception {
        daemon.close();
        Path config = Files.writeString(dir.resolve("bridge.json"), "{\"bridge\": \"bcli0\"}");
        daemon = launch(distribution, dir.resolve("net-daemon"), "--config-file", config.toString());
    }

    /**
     * Removes what a bridge daemon's test made on the host: its containers and the named networks (while the
     * daemon runs), then the daemon, the containers' namespaces, {@code bcli0} and the driver's table ({@code berth_bcli0}).
     */
    private void removeBridgeState(String... networks) throws Exception {
        if (daemon.process.isAlive()) {
            for (String id : docker("ps", "-aq").stdout().split("\\s+")) {
                if (!id.isBlank()) {
                    docker("rm", "-f", id);
                }
            }
            if (networks.length > 0) {
                List<String> rm = new ArrayList<>(List.of("network", "rm"));
                rm.addAll(List.of(networks));
                docker(rm.toArray(String[]::new));
            }
        }
        daemon.close();
        // only this daemon's containers' namespaces (berth-ID): another daemon's are none of the test's business
        Path containers = daemon.root.resolve("data/containers");
        if (Files.isDirectory(containers)) {
            try (java.util.stream.Stream<Path> ids = Files.list(containers)) {
                for (Path id : ids.toList()) {
                    Commands.run("ip", "netns", "delete", "berth-" + id.getFileName());
                }
            }
        }
        Commands.run("ip", "link", "delete", "bcli0");
        Commands.run("nft", "delete", "table", "ip", "berth_bcli0");
    }

    @Test
    void versionAndInfoDescribeBerth() throws Exception {
        String version = ok("version", "--format", "{{.Server.Version}} {{.Server.APIVersion}} {{.Server.Os}}")
                .stdout();
        assertTrue(version.matches("\\S+ 1\\.47 linux\\n"), version);
        String info = ok("info", "--format", "{{.Images}} {{.Containers}} {{.OSType}} {{.Driver}}").stdout();
        assertTrue(info.matches("1 0 linux (vfs|overlay2|btrfs)\\n"), info);
    }

    @Test
    void aContainersLifeThroughTheDockerCli() throws Exception {
        String id = ok("create", "--name", "c1", "itest/busybox:1", "sh", "-c", "echo out; echo err >&2; exit 3")
                .stdout().strip();
        assertTrue(id.matches("[0-9a-f]{64}"), id);
        assertTrue(ok("ps", "-a", "--format", "{{.Names}} {{.Status}}").stdout().contains("c1 Created"));
        ok("start", "c1");
        assertEquals("3\n", ok("wait", "c1").stdout());
        Commands.Result logs = ok("logs", "c1");
        assertEquals("out\n", logs.stdout());
        assertEquals("err\n", logs.stderr());
        assertEquals("exited 3\n", ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "c1").stdout());

        ok("run", "-d", "--name", "web", "itest/busybox:1", "sleep", "300");
        assertEquals("web\n", ok("ps", "--format", "{{.Names}}").stdout());
        assertTrue(ok("top", "web").stdout().contains("sleep 300"));
        ok("pause", "web");
        assertTrue(ok("ps", "--format", "{{.Status}}").stdout().contains("(Paused)"));
        ok("unpause", "web");
        ok("rename", "web", "web2");
        ok("stop", "-t", "1", "web2");
        assertEquals("web2\nc1\n", ok("ps", "-a", "--filter", "status=exited", "--format", "{{.Names}}").stdout());
        ok("rm", "c1", "web2");
        assertEquals("", ok("ps", "-aq").stdout());
    }

    @Test
    void imagesAreListedTaggedAndRemoved() throws Exception {
        assertEquals("itest/busybox:1\n", ok("images", "--format", "{{.Repository}}:{{.Tag}}").stdout());
        ok("tag", "itest/busybox:1", "itest/other:2");
        assertEquals("itest/busybox:1\nitest/other:2\n", ok("images", "--format", "{{.Repository}}:{{.Tag}}")
                .stdout().lines().sorted().reduce("", (a, b) -> a + b + "\n"));
        assertTrue(ok("rmi", "itest/other:2").stdout().contains("Untagged: itest/other:2"));
        assertTrue(ok("image", "inspect", "-f", "{{.Os}}", "itest/busybox:1").stdout().contains("linux"));
    }

    @Test
    void imagesTravelThroughARegistryArchivesAndCommits() throws Exception {
        int port = startRegistry();
        try {
            String remote = "127.0.0.1:" + port + "/cli/busybox:1";
            ok("tag", "itest/busybox:1", remote);
            String push = ok("push", remote).stdout();
            assertTrue(push.contains("The push refers to repository [" + "127.0.0.1:" + port + "/cli/busybox]")
                    && push.contains("1: digest: sha256:"), push);
            ok("rmi", remote);
            String pull = ok("pull", remote).stdout();
            assertTrue(pull.contains("Digest: sha256:") && pull.contains(remote), pull);
            Commands.Result missing = docker("pull", "127.0.0.1:" + port + "/cli/none:1");
            assertNotEquals(0, missing.exitCode(), missing::toString);
        } finally {
            daemon.shell("berth:registry-stop");
        }

        Path saved = dir.resolve("saved.tar");
        ok("save", "-o", saved.toString(), "itest/busybox:1");
        ok("tag", "itest/busybox:1", "itest/keep:1"); // the image stays while its first name goes
        ok("rmi", "itest/busybox:1");
        assertTrue(ok("load", "-i", saved.toString()).stdout().contains("Loaded image: itest/busybox:1"));

        ok("run", "-d", "--name", "maker", "itest/busybox:1", "sh", "-c", "echo made > /made; sleep 300");
        Await.until("the file", () -> diff("maker"), d -> d.contains("A /made"), daemon::logText);
        String committed = ok("commit", "-c", "CMD [\"cat\", \"/made\"]", "maker", "itest/committed:1").stdout();
        assertTrue(committed.startsWith("sha256:"), committed);
        ok("run", "-d", "--name", "reader", "itest/committed:1");
        assertEquals("0\n", ok("wait", "reader").stdout());
        assertEquals("made\n", ok("logs", "reader").stdout());

        Path exported = dir.resolve("exported.tar");
        ok("export", "-o", exported.toString(), "maker");
        assertTrue(Commands.run("tar", "-tf", exported.toString()).stdout().lines().anyMatch(l -> l.endsWith("made")));
        assertTrue(ok("import", exported.toString(), "itest/imported:1").stdout().startsWith("sha256:"));
        assertTrue(ok("images", "--format", "{{.Repository}}").stdout().contains("itest/imported"));

        // the CLI sends a duration's until in whole seconds: a time past this second includes what just happened
        String until = Long.toString(java.time.Instant.now().getEpochSecond() + 1);
        String events = ok("events", "--since", "5m", "--until", until, "--filter", "type=container",
                "--format", "{{.Action}} {{.Actor.Attributes.name}}").stdout();
        assertTrue(events.contains("create maker") && events.contains("die reader"), events);
        assertTrue(ok("system", "df").stdout().contains("Images"));
    }

    @Test
    void searchAsksTheRegistryTheTermNames() throws Exception {
        int port = startRegistry();
        try {
            String host = "127.0.0.1:" + port;
            for (String name : List.of("team/busybox:1", "busy/app:2", "other:1")) {
                ok("tag", "itest/busybox:1", host + "/" + name);
                ok("push", host + "/" + name);
            }
            assertEquals("busy/app\nteam/busybox\n", ok("search", "--format", "{{.Name}}", host + "/busy").stdout());
            String table = ok("search", host + "/box").stdout();
            assertTrue(table.startsWith("NAME") && table.contains("team/busybox") && !table.contains("other"), table);
            assertEquals("busy/app\n", ok("search", "--limit", "1", "--format", "{{.Name}}", host + "/busy").stdout());
            assertEquals("", ok("search", "--filter", "is-official=true", "--format", "{{.Name}}", host + "/busy")
                    .stdout());
            Commands.Result badFilter = docker("search", "--filter", "stars=many", host + "/busy");
            assertTrue(badFilter.stderr().contains("invalid filter 'stars=many'"), badFilter::toString);
            Commands.Result shell = daemon.shell("berth:search --limit 5 " + host + "/busy");
            assertEquals(0, shell.exitCode(), shell::toString);
            assertTrue(shell.stdout().contains("busy/app") && shell.stdout().contains("team/busybox"), shell::toString);
        } finally {
            daemon.shell("berth:registry-stop");
        }
        Commands.Result nobody = docker("search", "127.0.0.1:" + freePort() + "/busy");
        assertNotEquals(0, nobody.exitCode());
        assertTrue(nobody.stderr().contains("cannot reach"), nobody::toString);
    }

    @Test
    void filesGoInAndOutAndStatsAreMeasured() throws Exception {
        ok("run", "-d", "--name", "busy", "itest/busybox:1", "sh", "-c", "echo inside > /f; while true; do :; done");
        Await.until("the file", () -> diff("busy"), d -> d.contains("A /f"), daemon::logText);
        Path out = dir.resolve("out");
        ok("cp", "busy:/f", out.toString());
        assertEquals("inside\n", Files.readString(out));
        Path in = Files.writeString(dir.resolve("in"), "from the host\n");
        ok("cp", in.toString(), "busy:/in");
        Path back = dir.resolve("back");
        ok("cp", "busy:/in", back.toString());
        assertEquals("from the host\n", Files.readString(back));
        Commands.Result missing = docker("cp", "busy:/nope", dir.resolve("x").toString());
        assertTrue(missing.stderr().contains("Could not find the file /nope"), missing::toString);

        String stats = ok("stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}} {{.PIDs}}", "busy").stdout();
        String[] fields = stats.strip().split(" ");
        assertEquals("busy", fields[0], stats);
        assertTrue(Double.parseDouble(fields[1].replace("%", "")) > 10, "a busy loop uses CPU: " + stats);
        assertEquals("1", fields[2], stats);
    }

    @Test
    void volumesAreCreatedListedInspectedAndRemoved() throws Exception {
        ok("volume", "create", "--label", "team=a", "data");
        assertEquals("data\n", ok("volume", "ls", "-q", "--filter", "label=team=a").stdout());
        String mountpoint = ok("volume", "inspect", "-f", "{{.Mountpoint}}", "data").stdout().strip();
        assertTrue(Files.isDirectory(Path.of(mountpoint)), mountpoint);
        ok("create", "--name", "user", "-v", "data:/data", "itest/busybox:1", "true");
        Commands.Result inUse = docker("volume", "rm", "data");
        assertTrue(inUse.stderr().contains("volume is in use"), inUse::toString);
        ok("rm", "user");
        ok("volume", "rm", "data");
        ok("volume", "create", "spare");
        assertTrue(ok("volume", "prune", "-af").stdout().contains("spare"));
        assertEquals("", ok("volume", "ls", "-q").stdout());
    }

    /** The same CLI over tcp:// with mutual TLS: certificates made here by openssl, a client without one refused. */
    @Test
    void theCliWorksOverTcpWithMutualTlsAndStrangersAreTurnedAway() throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        int port = freePort();
        daemon.close();
        daemon = BerthDaemon.start(DistributionBundles.distribution(), dir.resolve("tls-daemon"),
                pki.daemonArgs(port).toArray(String[]::new));
        DockerCli tls = DockerCli.overTls(daemon, pki, port);
        assertEquals("1.47\n", tls.ok("version", "--format", "{{.Server.APIVersion}}").stdout());
        tls.ok("import", dir.resolve("rootfs.tar").toString(), "itest/busybox:1");
        assertEquals("hijacked over TLS\n", tls.ok("run", "--rm", "itest/busybox:1", "echo", "hijacked over TLS")
                .stdout());

        String tcp = "tcp://127.0.0.1:" + port;
        Commands.Result noCertificate = Commands.run(DockerCli.binary(), "-H", tcp, "--tlsverify", "--tlscacert",
                pki.ca(), "ps");
        assertNotEquals(0, noCertificate.exitCode());
        assertTrue(noCertificate.stderr().contains("certificate required"), noCertificate::toString);
        Commands.Result plain = Commands.run("curl", "-s", "-o", "/dev/null", "http://127.0.0.1:" + port + "/_ping");
        assertNotEquals(0, plain.exitCode(), "plain HTTP gets no answer");
    }

    /**
     * docker network on a daemon with its bridge driver on (default bridge {@code bcli0}); the bridge and the
     * driver's nftables table are removed afterwards.
     */
    @Test
    void networksAreCreatedListedInspectedAndRemoved() throws Exception {
        startBridgeDaemon();
        try {
            assertEquals("bridge\nhost\nnone\n", ok("network", "ls", "--format", "{{.Name}}").stdout());
            String id = ok("network", "create", "--subnet", "10.232.1.0/24", "--gateway", "10.232.1.1", "--label",
                    "team=a", "front").stdout().strip();
            assertTrue(id.matches("[0-9a-f]{64}"), id);
            assertEquals("front\n", ok("network", "ls", "--filter", "label=team=a", "--format", "{{.Name}}").stdout());
            assertEquals("front bridge 10.232.1.0/24 10.232.1.1\n", ok("network", "inspect", "--format",
                    "{{.Name}} {{.Driver}} {{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}}",
                    id.substring(0, 12)).stdout());
            Commands.Result duplicate = docker("network", "create", "front");
            assertTrue(duplicate.stderr().contains("already exists"), duplicate::toString);
            Commands.Result overlap = docker("network", "create", "--subnet", "10.232.1.128/25", "other");
            assertNotEquals(0, overlap.exitCode(), overlap::toString);
            Commands.Result badCidr = docker("network", "create", "--subnet", "10.232.300.0/24", "bad");
            assertNotEquals(0, badCidr.exitCode(), badCidr::toString);
            Commands.Result builtin = docker("network", "rm", "bridge");
            assertTrue(builtin.stderr().contains("pre-defined network"), builtin::toString);
            ok("network", "rm", "front");
            ok("network", "create", "spare");
            assertTrue(ok("network", "prune", "-f").stdout().contains("spare"));
            assertEquals("bridge\nhost\nnone\n", ok("network", "ls", "--format", "{{.Name}}").stdout());
            assertFalse(Commands.run("ip", "-o", "addr").stdout().contains("10.232.1."), "front's bridge is gone");
        } finally {
            removeBridgeState();
        }
    }

    @Test
    void runAttachesExecRunsAndExitCodesComeBack() throws Exception {
        assertEquals("hi\n", ok("run", "--rm", "itest/busybox:1", "echo", "hi").stdout());
        Commands.Result failed = docker("run", "--rm", "itest/busybox:1", "sh", "-c", "echo out; echo err >&2; exit 5");
        assertEquals(5, failed.exitCode(), failed::toString);
        assertEquals("out\n", failed.stdout());
        assertEquals("err\n", failed.stderr());
        assertEquals("piped\n", shellPipe("echo piped | " + cli() + " run --rm -i itest/busybox:1 cat").stdout());
        assertEquals("", ok("ps", "-aq").stdout(), "--rm removed them");

        ok("run", "-d", "--name", "box", "itest/busybox:1", "sleep", "300");
        Commands.Result exec = docker("exec", "box", "sh", "-c", "echo in-exec; exit 4");
        assertEquals(4, exec.exitCode(), exec::toString);
        assertEquals("in-exec\n", exec.stdout());
        assertEquals("data\n", shellPipe("echo data | " + cli() + " exec -i box cat").stdout());
        ok("exec", "-d", "box", "sh", "-c", "echo detached > /mark");
        Await.until("the detached exec", () -> quietly(() -> docker("exec", "box", "cat", "/mark").stdout()),
                "detached\n"::equals, daemon::logText);
    }

    @Test
    void anInteractiveShellRunsOnATerminalAndAttachDetachesWithTheKeys() throws Exception {
        String session = shellPipe("(sleep 1; printf 'echo $((6*7))\\nexit\\n') | script -qec '" + cli()
                + " run -it --rm itest/busybox:1 sh' /dev/null").stdout();
        assertTrue(session.contains("42"), session);
        ok("run", "-d", "-it", "--name", "term", "itest/busybox:1", "sh");
        // An exec's terminal has the client's size (ConsoleSize) before the command runs, and nothing but the
        // command's output comes back: stty used to see 0 x 0 now and then, and the runtime's terminal, cooked
        // until it ran, turned a Ctrl-D into a NUL shown as "^@". Stdin stays open: script's own terminal does the
        // same to its Ctrl-D at the end of its input when that comes before the CLI has made it raw.
        for (int i = 0; i < 5; i++) {
            String exec = shellPipe("sleep 3 | script -qec 'stty rows 30 cols 100; " + cli()
                    + " exec -it term sh -c \"stty size; echo hi\"' /dev/null").stdout();
            assertEquals("30 100\r\nhi\r\n", exec, "exec -it's output, byte for byte");
        }
        Commands.Result detached = shellPipe("(sleep 1; printf '\\020\\021') | script -qec '" + cli()
                + " attach term' /dev/null");
        assertTrue(detached.stdout().contains("read escape sequence"), detached::toString);
        assertEquals("running\n", ok("inspect", "-f", "{{.State.Status}}", "term").stdout(), "detach leaves it up");
    }

    private String cli() {
        return connect(daemon).commandLine();
    }

    private static Commands.Result shellPipe(String pipeline) throws Exception {
        return Commands.run("timeout", "60", "sh", "-c", pipeline);
    }

    /**
     * Containers on networks, on a daemon whose default bridge is {@code bcli0}: a published port answers on
     * 127.0.0.1, containers on a user network reach each other by name, the default bridge knows no names;
     * stopping takes the port and the namespace away. Everything is removed afterwards.
     */
    @Test
    void containersReachEachOtherOnTheirNetworksAndPublishedPortsAnswer() throws Exception {
        startBridgeDaemon();
        try {
            Path tar = dir.resolve("rootfs.tar");
            ok("import", tar.toString(), "itest/busybox:1");
            Path www = Files.createDirectories(dir.resolve("www"));
            Files.writeString(www.resolve("index.html"), "served\n");
            int port = freePort();
            ok("run", "-d", "--name", "web", "-p", port + ":80", "-v", www + ":/www", "itest/busybox:1",
                    "httpd", "-f", "-p", "80", "-h", "/www");
            Await.until("the published port", () -> quietly(() -> Commands.run("curl", "-s", "-m", "2",
                    "http://127.0.0.1:" + port + "/").stdout()), "served\n"::equals, daemon::logText);
            assertEquals("80/tcp -> 0.0.0.0:" + port + "\n", ok("port", "web").stdout());
            assertTrue(ok("ps", "--format", "{{.Ports}}").stdout().contains("0.0.0.0:" + port + "->80/tcp"));
            String address = ok("inspect", "-f", "{{.NetworkSettings.IPAddress}} {{range $k, $v := "
                    + ".NetworkSettings.Networks}}{{$k}}{{end}}", "web").stdout();
            assertTrue(address.matches("\\d+\\.\\d+\\.\\d+\\.\\d+ bridge\n"), address);
            ok("run", "-d", "--name", "any", "--expose", "8080", "-P", "itest/busybox:1", "sleep", "300");
            String picked = ok("port", "any", "8080").stdout();
            assertTrue(picked.matches("0\\.0\\.0\\.0:\\d+\n") && !picked.equals("0.0.0.0:0\n"),
                    "-P picks a free port: " + picked);

            ok("network", "create", "--subnet", "10.234.1.0/24", "front");
            ok("run", "-d", "--name", "early", "--network", "front", "itest/busybox:1", "sleep", "300");
            ok("run", "-d", "--name", "inner", "--network", "front", "--network-alias", "www-alias", "-v",
                    www + ":/www", "itest/busybox:1", "httpd", "-f", "-p", "80", "-h", "/www");
            assertEquals("served\n", ok("run", "--rm", "--network", "front", "itest/busybox:1",
                    "wget", "-qO-", "http://www-alias/").stdout(), "by --network-alias");
            Commands.Result aliasOnBridge = docker("run", "--rm", "--network-alias", "x", "itest/busybox:1", "true");
            assertNotEquals(0, aliasOnBridge.exitCode(), "aliases are for user networks: " + aliasOnBridge);
            assertEquals("served\n", ok("run", "--rm", "--network", "front", "itest/busybox:1",
                    "wget", "-qO-", "http://inner/").stdout(), "by name on a user network");
            String inner = ok("run", "--rm", "--network", "front", "itest/busybox:1", "sh", "-c",
                    "grep inner /etc/hosts | cut -f1").stdout().strip();
            assertTrue(inner.startsWith("10.234.1."), inner);
            assertEquals("served\n", ok("run", "--rm", "--network", "container:inner", "itest/busybox:1",
                    "wget", "-qO-", "http://127.0.0.1/").stdout(), "--network container: shares its namespace");
            assertTrue(ok("run", "--rm", "--network", "container:inner", "itest/busybox:1", "ip", "-o", "-4", "addr",
                    "show", "eth0").stdout().contains(" " + inner + "/24 "), "with its address");
            // a container that started first learns the later one's name too, and forgets it when it stops
            Await.until("early to know inner", () -> quietly(() -> docker("exec", "early", "wget", "-qO-",
                    "http://inner/").stdout()), "served\n"::equals, daemon::logText);
            ok("network", "create", "--subnet", "10.234.2.0/24", "back");
            ok("network", "connect", "--alias", "second", "back", "early");
            assertTrue(ok("exec", "early", "ip", "-o", "addr", "show", "eth1").stdout().contains("10.234.2."));
            assertEquals("back front\n", ok("inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} "
                    + "{{end}}", "early").stdout().replace(" \n", "\n"));
            ok("network", "disconnect", "back", "early");
            assertFalse(ok("exec", "early", "ip", "-o", "addr").stdout().contains("10.234.2."), "eth1 is gone");
            ok("network", "rm", "back");
            ok("stop", "-t", "1", "inner");
            Commands.Result stopped = docker("network", "connect", "front", "inner");
            assertTrue(stopped.stderr().contains("already exists in network front"), stopped::toString);
            Await.until("early to forget inner", () -> quietly(() -> docker("exec", "early", "grep", "-c", "inner",
                    "/etc/hosts").stdout()), "0\n"::equals, daemon::logText);
            // No lookups that could leave the machine: the default bridge has no names in /etc/hosts (and its
            // DNS is the host's), so this checks the file. Isolation between networks is BridgeNetworkDriverTest's.
            assertEquals("", ok("run", "--rm", "itest/busybox:1", "sh", "-c", "grep -c inner /etc/hosts || true")
                    .stdout().replace("0\n", ""), "the default bridge resolves no container names");

            ok("stop", "-t", "1", "web");
            assertNotEquals("served\n", Commands.run("curl", "-s", "-m", "2", "http://127.0.0.1:" + port + "/")
                    .stdout(), "a stopped container's port is gone");
            ok("rm", "-f", "web", "inner", "any", "early");
            ok("network", "rm", "front");
            assertFalse(Commands.run("ip", "netns", "list").stdout().contains("berth-"), "no namespace left");
        } finally {
            removeBridgeState("front", "back");
        }
    }

    /**
     * After {@code kill -9} of the daemon and a restart, networked containers still answer: the published port,
     * names on a user network, and one DNAT rule per port (no duplicates). Everything is removed afterwards.
     */
    @Test
    void networkedContainersStayReachableThroughAKilledDaemon() throws Exception {
        startBridgeDaemon();
        try {
            ok("import", dir.resolve("rootfs.tar").toString(), "itest/busybox:1");
            Path www = Files.createDirectories(dir.resolve("www"));
            Files.writeString(www.resolve("index.html"), "served\n");
            int port = freePort();
            ok("network", "create", "--subnet", "10.234.3.0/24", "front");
            ok("run", "-d", "--name", "web", "--network", "front", "-p", port + ":80", "-v", www + ":/www",
                    "itest/busybox:1", "httpd", "-f", "-p", "80", "-h", "/www");
            String url = "http://127.0.0.1:" + port + "/";
            Await.until("the published port", () -> quietly(() -> Commands.run("curl", "-s", "-m", "2", url)
                    .stdout()), "served\n"::equals, daemon::logText);

            String hostBefore = hostNetworkState();

            daemon.process.destroyForcibly().waitFor();
            assertEquals("served\n", Commands.run("curl", "-s", "-m", "2", url).stdout(),
                    "the port answers while no daemon runs");
            startBridgeDaemon(); // the same data-root and configuration
            assertEquals(hostBefore, hostNetworkState(), "the same links, addresses and rules: nothing doubled");

            assertEquals("served\n", Commands.run("curl", "-s", "-m", "2", url).stdout());
            assertEquals("served\n", ok("run", "--rm", "--network", "front", "itest/busybox:1", "wget", "-qO-",
                    "http://web/").stdout(), "names on the network after the restart");
            String rules = Commands.run("nft", "list", "table", "ip", "berth_bcli0").stdout();
            assertEquals(1, rules.lines().filter(l -> l.contains("dnat") && l.contains("dport " + port + " ")).count(),
                    "one DNAT rule for the port, not two:\n" + rules);
        } finally {
            removeBridgeState("front");
        }
    }

    /**
     * The live upgrade of issue 6: a client container keeps fetching from a server container by name on a user
     * network while a newer bridge bundle (dropped into deploy/) replaces the running one. No fetch fails; the new
     * driver instance has the network and its endpoints: a new container joins, and once everything is removed
     * no link, address or rule of the network is left.
     */
    @Test
    void aBridgeBundleUpdateDropsNoFetchAndTheNewInstanceKeepsTheEndpoints() throws Exception {
        Path copy = dir.resolve("berth");
        Commands.check("cp", "-a", DistributionBundles.distribution().toString(), copy.toString());
        startBridgeDaemon(copy);
        try {
            ok("import", dir.resolve("rootfs.tar").toString(), "itest/busybox:1");
            Path www = Files.createDirectories(dir.resolve("www"));
            Files.writeString(www.resolve("index.html"), "served\n");
            ok("network", "create", "--subnet", "10.234.4.0/24", "front");
            String bridge = linkWithAddress("10.234.4.1/24");
            ok("run", "-d", "--name", "web", "--network", "front", "-v", www + ":/www", "itest/busybox:1",
                    "httpd", "-f", "-p", "80", "-h", "/www");
            // busybox's own wget -T crashes here: timeout bounds each fetch instead (generously: a loaded machine
            // is slow, not disconnected; a recreated link would show in the veths' indexes below)
            ok("run", "-d", "--name", "client", "--network", "front", "itest/busybox:1", "sh", "-c",
                    "while :; do if [ \"$(timeout 10 wget -qO- http://web/)\" = served ]; then echo ok; "
                            + "else echo failed; fi; sleep 0.05; done");
            Await.until("the client's first fetches", () -> fetches("ok"), n -> n >= 5, daemon::logText);
            List<String> veths = linksOn(bridge);
            assertEquals(2, veths.size(), () -> "web's and client's veths on " + bridge + ": " + veths);

            Path systemJar;
            try (java.util.stream.Stream<Path> jars = Files.walk(copy.resolve("system"))) {
                systemJar = jars.filter(jar -> jar.getFileName().toString().startsWith("network-bridge-"))
                        .findFirst().orElseThrow();
            }
            long before = fetches("ok");
            TestBundles.withVersion(systemJar, copy.resolve("deploy/network-bridge.jar"), "9.0.0");
            Await.until("the newer bridge driver", () -> quietly(() -> daemon.shell("berth:drivers").stdout()),
                    text -> text.lines().anyMatch(l -> l.matches("network\\s+bridge\\s+9\\.0\\.0\\s+ACTIVE.*")),
                    daemon::logText);
            long afterUpdate = fetches("ok");
            Await.until("fetches after the update", () -> fetches("ok"), n -> n >= afterUpdate + 20, daemon::logText);
            assertEquals(0, fetches("failed"), () -> "failed fetches:\n" + quietly(() -> docker("logs", "client")
                    .stdout()));
            assertTrue(before >= 5 && afterUpdate >= before);
            assertEquals(veths, linksOn(bridge), "the same veths (same indexes), not new ones");

            assertEquals("served\n", ok("run", "--rm", "--network", "front", "itest/busybox:1", "wget", "-qO-",
                    "http://web/").stdout(), "a new container joins through the new instance");
            ok("network", "disconnect", "front", "client");
            assertEquals(1, linksOn(bridge).size(), "the disconnected client's veth is gone: the new instance "
                    + "knew it");
            ok("rm", "-f", "web", "client");
            ok("network", "rm", "front");
            String links = Commands.run("ip", "-o", "link").stdout();
            assertFalse(links.contains(" " + bridge + ":") || veths.stream().anyMatch(v -> links.contains(v.split(": ")[1])),
                    links);
            assertFalse(Commands.run("ip", "-o", "addr").stdout().contains("10.234.4."), "no address of front");
            String rules = Commands.run("nft", "list", "table", "ip", "berth_bcli0").stdout();
            assertFalse(rules.contains(bridge) || rules.contains("10.234.4."), rules);
        } finally {
            removeBridgeState("front");
        }
    }

    /**
     * UDP through the docker CLI: {@code -p HOSTPORT:PORT/udp} and {@code -P} of an image's {@code EXPOSE
     * 5353/udp} answer datagrams sent to 127.0.0.1 and to the host's own address. This busybox's nc has no
     * {@code -u}, so the server is the network test suite's UDP echo, run in the container's namespace.
     */
    @Test
    void udpPortsArePublishedOnLoopbackAndOnTheHostsOwnAddress() throws Exception {
        startBridgeDaemon();
        try (TestNamespaces servers = new TestNamespaces()) {
            Path tar = dir.resolve("rootfs.tar");
            ok("import", tar.toString(), "itest/busybox:1");
            ok("import", "--change", "EXPOSE 5353/udp", "--change", "CMD [\"sleep\", \"300\"]", tar.toString(),
                    "itest/udp:1");
            int port = freeUdpPort();
            ok("run", "-d", "--name", "dns", "-p", port + ":53/udp", "itest/busybox:1", "sleep", "300");
            servers.startUdpEcho(sandbox("dns"), 53);
            assertEquals("got one", UdpEchoServer.ask("127.0.0.1", port, "one"));
            assertEquals("got two", UdpEchoServer.ask(hostAddress(), port, "two"));
            assertEquals("53/udp -> 0.0.0.0:" + port + "\n", ok("port", "dns").stdout());

            ok("run", "-d", "--name", "auto", "-P", "itest/udp:1");
            String picked = ok("port", "auto", "5353/udp").stdout();
            assertTrue(picked.matches("0\\.0\\.0\\.0:[1-9]\\d*\n"), "-P picks a free port: " + picked);
            int autoPort = Integer.parseInt(picked.strip().substring("0.0.0.0:".length()));
            servers.startUdpEcho(sandbox("auto"), 5353);
            assertEquals("got three", UdpEchoServer.ask("127.0.0.1", autoPort, "three"));
            assertEquals("got four", UdpEchoServer.ask(hostAddress(), autoPort, "four"));

            ok("rm", "-f", "dns", "auto");
            assertEquals("", UdpEchoServer.ask("127.0.0.1", port, "gone"), "a removed container's port is gone");
        } finally {
            removeBridgeState();
        }
    }

    /**
     * Bad network input through the CLI: each refusal says what is wrong, and the host (links, addresses, the
     * driver's rules), {@code network ls} and {@code ps -a} are as before; a container whose port is taken is not
     * left running or attached (Docker keeps it, created).
     */
    @Test
    void badNetworkInputIsRefusedAndLeavesNothingHalfMade() throws Exception {
        startBridgeDaemon();
        try (java.net.ServerSocket loopback = new java.net.ServerSocket();
             java.net.ServerSocket any = new java.net.ServerSocket()) {
            loopback.bind(new java.net.InetSocketAddress("127.0.0.1", 0));
            any.bind(new java.net.InetSocketAddress("0.0.0.0", 0));
            ok("import", dir.resolve("rootfs.tar").toString(), "itest/busybox:1");
            ok("network", "create", "--subnet", "10.234.5.0/24", "front");
            ok("run", "-d", "--name", "box", "itest/busybox:1", "sleep", "300");
            String host = hostNetworkState();
            String networks = ok("network", "ls", "--format", "{{.Name}}").stdout();

            refused("overlaps", "network", "create", "--subnet", "10.234.5.128/25", "other");
            refused("10.234.300.0/24", "network", "create", "--subnet", "10.234.300.0/24", "other");
            refused("gateway 10.234.7.1", "network", "create", "--subnet", "10.234.6.0/24", "--gateway",
                    "10.234.7.1", "other");
            refused("network nosuch not found", "run", "--rm", "--network", "nosuch", "itest/busybox:1", "true");
            refused("network nosuch not found", "network", "connect", "nosuch", "box");
            assertEquals(networks, ok("network", "ls", "--format", "{{.Name}}").stdout());
            assertEquals(host, hostNetworkState());

            String beforePorts = ok("ps", "-a", "--format", "{{.Names}} {{.State}}").stdout();
            int held = loopback.getLocalPort();
            refused("driver failed programming external connectivity on endpoint on-loopback", "run", "-d", "--name",
                    "on-loopback", "-p", "127.0.0.1:" + held + ":80", "itest/busybox:1", "sleep", "300");
            refused("failed to bind host port 0.0.0.0:" + held + "/tcp: address already in use", "run", "-d",
                    "--name", "on-all", "-p", held + ":80", "itest/busybox:1", "sleep", "300");
            refused("failed to bind host port 0.0.0.0:" + any.getLocalPort() + "/tcp: address already in use", "run",
                    "-d", "--name", "on-any", "-p", any.getLocalPort() + ":80", "itest/busybox:1", "sleep", "300");
            assertEquals(host, hostNetworkState(), "no veth, address or rule of the refused containers");
            String after = ok("ps", "-a", "--format", "{{.Names}} {{.State}}").stdout();
            for (String name : List.of("on-loopback", "on-all", "on-any")) {
                assertFalse(after.contains(name + " running"), after);
                assertFalse(Files.exists(Path.of("/run/netns/berth-" + quietly(() -> docker("inspect", "-f",
                        "{{.Id}}", name).stdout().strip()))), name + " has no namespace left");
            }
            assertTrue(after.contains(beforePorts.strip()), after);
        } finally {
            removeBridgeState("front");
        }
    }

    /**
     * {@code docker network connect/disconnect} of a container that does not run (created, or exited) is
     * recorded, shown by inspect, and applied at its next start, as dockerd does.
     */
    @Test
    void stoppedContainersAreConnectedAndDisconnectedAtTheirNextStart() throws Exception {
        startBridgeDaemon();
        try {
            ok("import", dir.resolve("rootfs.tar").toString(), "itest/busybox:1");
            String back = ok("network", "create", "--subnet", "10.234.6.0/24", "back").stdout().strip();
            ok("network", "create", "--subnet", "10.234.7.0/24", "side");
            ok("create", "--name", "fresh", "itest/busybox:1", "sleep", "300");
            ok("network", "connect", "--alias", "db", "back", "fresh");
            assertEquals(back + " [db] \n", ok("inspect", "-f", "{{with index .NetworkSettings.Networks \"back\"}}"
                    + "{{.NetworkID}} {{.Aliases}} {{.IPAddress}}{{end}}", "fresh").stdout(), "recorded, no address yet");
            refused("already exists in network back", "network", "connect", "back", "fresh");

            ok("start", "fresh");
            String address = ok("inspect", "-f", "{{(index .NetworkSettings.Networks \"back\").IPAddress}}", "fresh")
                    .stdout().strip();
            assertTrue(address.startsWith("10.234.6."), address);
            assertTrue(ok("exec", "fresh", "ip", "-o", "-4", "addr").stdout().contains(address + "/24"));
            assertTrue(ok("run", "--rm", "--network", "back", "itest/busybox:1", "grep", "db", "/etc/hosts").stdout()
                    .startsWith(address), "its alias resolves on the network it joined at start");

            ok("stop", "-t", "1", "fresh");
            assertEquals("back bridge \n", ok("inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} "
                    + "{{end}}", "fresh").stdout(), "an exited container keeps its networks");
            ok("network", "disconnect", "back", "fresh");
            ok("network", "connect", "side", "fresh");
            refused("joins it at every start", "network", "disconnect", "bridge", "fresh");
            ok("start", "fresh");
            String addresses = ok("exec", "fresh", "ip", "-o", "-4", "addr").stdout();
            assertTrue(addresses.contains("10.234.7.") && !addresses.contains("10.234.6."), addresses);
            assertEquals("bridge side \n", ok("inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} "
                    + "{{end}}", "fresh").stdout());
            ok("rm", "-f", "fresh");
            ok("network", "rm", "back", "side");
        } finally {
            removeBridgeState("back", "side");
        }
    }

    /** Runs docker, expects it to fail and to say {@code words}. */
    private void refused(String words, String... args) throws Exception {
        Commands.Result result = docker(args);
        assertNotEquals(0, result.exitCode(), () -> "docker " + String.join(" ", args) + " should fail: " + result);
        assertTrue(result.stderr().contains(words), () -> "docker " + String.join(" ", args) + " should say '"
                + words + "': " + result);
    }

    /**
     * What the test daemon's networks are on the host: the links on its bridges, the addresses of its subnets
     * (10.234.x and bcli0's) and its nftables table.
     */
    private static String hostNetworkState() throws Exception {
        String links = Commands.run("ip", "-o", "link").stdout().lines()
                .map(l -> l.split(": ")[0] + ": " + l.split(": ")[1] + (l.contains(" master ")
                        ? " master " + l.split(" master ")[1].split(" ")[0] : ""))
                .filter(l -> l.contains("bcli0") || l.contains("berth")).sorted()
                .collect(java.util.stream.Collectors.joining("\n"));
        String addresses = Commands.run("ip", "-o", "-4", "addr").stdout().lines()
                .filter(l -> l.contains(" bcli0 ") || l.contains(" 10.234.")).sorted()
                .collect(java.util.stream.Collectors.joining("\n"));
        return links + "\n" + addresses + "\n" + Commands.run("nft", "list", "table", "ip", "berth_bcli0").stdout();
    }

    /** The path of a container's network namespace. */
    private Path sandbox(String container) throws Exception {
        return Path.of(ok("inspect", "-f", "{{.NetworkSettings.SandboxKey}}", container).stdout().strip());
    }

    /** The host's own address: the one on the link of its default route (traffic to it stays on this machine). */
    private static String hostAddress() throws Exception {
        String device = Commands.run("ip", "-4", "-o", "route", "show", "default").stdout().split(" dev ")[1]
                .split(" ")[0];
        String line = Commands.run("ip", "-4", "-o", "addr", "show", "dev", device, "scope", "global").stdout();
        return line.trim().split("\\s+")[3].split("/")[0];
    }

    private static int freeUdpPort() throws java.io.IOException {
        try (java.net.DatagramSocket socket = new java.net.DatagramSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** How many of the client container's fetches printed {@code word} so far. */
    private long fetches(String word) {
        return quietly(() -> docker("logs", "client").stdout()).lines().filter(word::equals).count();
    }

    /** The host link that carries {@code cidr}. */
    private static String linkWithAddress(String cidr) throws Exception {
        return Commands.run("ip", "-o", "-4", "addr").stdout().lines().filter(l -> l.contains(" " + cidr + " "))
                .map(l -> l.trim().split("\\s+")[1]).findFirst()
                .orElseThrow(() -> new AssertionError("no link has " + cidr));
    }

    /** The links on bridge {@code bridge}, as {@code INDEX: NAME} (a link made again gets a new index). */
    private static List<String> linksOn(String bridge) {
        return quietly(() -> Commands.run("ip", "-o", "link", "show", "master", bridge).stdout()).lines()
                .map(l -> l.split(": ")[0] + ": " + l.split(": ")[1].split("@")[0]).sorted().toList();
    }

    @Test
    void unknownThingsAndBadInputGetDockersAnswers() throws Exception {
        Commands.Result noContainer = docker("rm", "nosuch");
        assertNotEquals(0, noContainer.exitCode());
        assertTrue(noContainer.stderr().contains("No such container: nosuch"), noContainer::toString);
        Commands.Result noImage = docker("create", "itest/none:1");
        assertNotEquals(0, noImage.exitCode());
        assertTrue(noImage.stderr().contains("itest/none:1"), noImage::toString);
        ok("create", "--name", "dup", "itest/busybox:1", "true");
        Commands.Result conflict = docker("create", "--name", "dup", "itest/busybox:1", "true");
        assertTrue(conflict.stderr().contains("is already in use"), conflict::toString);
        Commands.Result badFilter = docker("ps", "--filter", "bogus=1");
        assertNotEquals(0, badFilter.exitCode());
        assertTrue(badFilter.stderr().contains("invalid filter 'bogus'"), badFilter::toString);
        Commands.Result bad = Commands.run("curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{content_type}",
                "--unix-socket", daemon.socket.toString(), "-X", "POST", "-H", "Content-Type: application/json",
                "-d", "{bad", "http://berth/v1.47/containers/create");
        assertEquals("400 application/json", bad.stdout());
        assertEquals("dup\n", ok("ps", "-a", "--format", "{{.Names}}").stdout(), "the daemon kept serving");
    }
}
