package io.berth.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The assembled {@code berth} distribution as an operator runs it: berthd
 * as a process, driven by curl, the docker CLI and berth-shell.
 */
class DaemonProcessIT {

    /** What berth-minimal has; the full distribution adds {@link #FULL_ONLY}. */
    private static final List<String> SUBSYSTEMS =
            List.of("io.berth.spi", "io.berth.shell", "io.berth.engine-api", "io.berth.storage-vfs");
    private static final List<String> FULL_ONLY =
            List.of("io.berth.storage-overlayfs", "io.berth.storage-btrfs", "io.berth.storage-devicemapper",
                    "io.berth.images");

    @TempDir
    static Path shared;

    private static BerthDaemon daemon;

    @BeforeAll
    static void startDaemon() throws Exception {
        Path config = shared.resolve("daemon.json");
        Files.writeString(config, """
                {
                  "storage-driver": "vfs",
                  "registry-mirrors": ["https://mirror.invalid"],
                  "x-not-a-docker-key": true
                }
                """);
        daemon = BerthDaemon.start(distribution(), shared.resolve("daemon"), "--config-file", config.toString());
    }

    @AfterAll
    static void stopDaemon() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
    }

    static Path distribution() {
        return DistributionBundles.distribution();
    }

    @Test
    void curlGetsOkFromPingOnASocketWithMode0660() throws Exception {
        Commands.Result curl = Commands.run("curl", "-sS", "--unix-socket", daemon.socket.toString(), "http://berth/_ping");
        assertEquals(0, curl.exitCode(), curl::toString);
        assertEquals("OK", curl.stdout());
        assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(daemon.socket)));
        Path pidFile = daemon.root.resolve("exec/berthd.pid");
        assertEquals(Long.toString(daemon.process.pid()), Files.readString(pidFile).trim());
    }

    @Test
    void curlGetsDockersErrorShapeForAnUnknownPathAndATooNewVersion() throws Exception {
        Commands.Result missing = Commands.run("curl", "-sS", "-i", "--unix-socket", daemon.socket.toString(),
                "http://berth/v1.47/no/such/thing");
        assertTrue(missing.stdout().startsWith("HTTP/1.1 404"), missing::toString);
        assertTrue(missing.stdout().contains("Content-Type: application/json\r\n"), missing::toString);
        assertTrue(missing.stdout().contains("{\"message\":\"page not found\"}"), missing::toString);
        Commands.Result tooNew = Commands.run("curl", "-sS", "-i", "--unix-socket", daemon.socket.toString(),
                "http://berth/v1.99/version");
        assertTrue(tooNew.stdout().startsWith("HTTP/1.1 400"), tooNew::toString);
        assertTrue(tooNew.stdout().contains("client version 1.99 is too new"), tooNew::toString);
    }

    @Test
    void dockerCliTalksToBerth() throws Exception {
        Path docker = Stream.of("/usr/local/bin/docker", "/usr/bin/docker").map(Path::of).filter(Files::isExecutable)
                .findFirst().orElseThrow(() -> new AssertionError(
                        "no docker CLI at /usr/local/bin/docker or /usr/bin/docker; this test drives berth with it"));
        Commands.Result version = Commands.run(docker.toString(), "-H", "unix://" + daemon.socket, "version",
                "--format", "{{.Server.APIVersion}} {{.Server.Os}}");
        assertEquals(0, version.exitCode(), version::toString);
        assertEquals("1.47 linux", version.stdout().trim());
    }

    @Test
    void berthShellPrintsInfoWithEveryBundleActive() throws Exception {
        Commands.Result info = daemon.shell("berth:info");
        assertEquals(0, info.exitCode(), info::toString);
        String text = info.stdout();
        assertTrue(text.contains("Data root: " + daemon.root.resolve("data")), text);
        assertTrue(text.contains("Exec root: " + daemon.root.resolve("exec")), text);
        assertTrue(text.contains("Uptime:"), text);
        Matcher bundles = Pattern.compile("Bundles:\\s+(\\d+) \\((\\d+) active\\)").matcher(text);
        assertTrue(bundles.find(), text);
        assertEquals(bundles.group(1), bundles.group(2), "every bundle is active:\n" + text);
        for (String subsystem : java.util.stream.Stream.concat(SUBSYSTEMS.stream(), FULL_ONLY.stream()).toList()) {
            assertTrue(text.lines().anyMatch(line -> line.contains(" Active ") && line.endsWith(" " + subsystem)),
                    subsystem + " active in:\n" + text);
        }
    }

    @Test
    void berthShellListsDriversAndStandardCommandsWork() throws Exception {
        Commands.Result drivers = daemon.shell("berth:drivers");
        assertEquals(0, drivers.exitCode(), drivers::toString);
        assertTrue(drivers.stdout().lines().anyMatch(line -> line.matches("storage\\s+vfs\\s+\\S+\\s+ACTIVE.*")),
                drivers::toString);
        assertTrue(drivers.stdout().lines().anyMatch(line -> line.matches(BerthBundlesIT.DEVICEMAPPER_ROW)),
                drivers::toString);
        Commands.Result lb = daemon.shell("lb");
        assertEquals(0, lb.exitCode(), lb::toString);
        assertTrue(lb.stdout().contains("Apache Felix Declarative Services"), lb::toString);
    }

    @Test
    void berthShellExitsNonZeroForAFailingCommand() throws Exception {
        Commands.Result result = daemon.shell("no-such-command");
        assertNotEquals(0, result.exitCode(), result::toString);
        assertTrue(result.stderr().contains("no-such-command"), result::toString);
    }

    @Test
    void daemonJsonReachesConfigAdminAndUnknownKeysAreWarnedAbout() throws Exception {
        Commands.Result config = daemon.shell("berth:config");
        assertEquals(0, config.exitCode(), config::toString);
        assertTrue(config.stdout().lines().anyMatch(line -> line.matches("registry-mirrors\\s+\\[https://mirror.invalid]")),
                config::toString);
        assertTrue(config.stdout().lines().anyMatch(line -> line.matches("storage-driver\\s+vfs")), config::toString);
        assertTrue(config.stdout().contains(daemon.root.resolve("data").toString()), config::toString);
        assertTrue(daemon.logText().contains("x-not-a-docker-key"), daemon.logText());
    }

    @Test
    void aSecondDaemonOnTheSameDataRootRefusesToStart(@TempDir Path other) throws Exception {
        Commands.Result second = Commands.run(distribution().resolve("bin/berthd").toString(),
                "--data-root", daemon.root.resolve("data").toString(),
                "--exec-root", other.resolve("exec").toString(),
                "-H", "unix://" + other.resolve("other.sock"));
        assertNotEquals(0, second.exitCode(), second::toString);
        assertTrue(second.stderr().contains("is in use by another berth daemon (pid " + daemon.process.pid() + ")"),
                second::toString);
        assertFalse(Files.exists(other.resolve("other.sock")), "the refused daemon bound no socket");
        assertTrue(UnixHttp.get(daemon.socket, "/_ping").endsWith("OK"), "the first daemon still answers");
    }

    @Test
    void aMalformedDaemonJsonIsRefusedWithFileLineAndReason(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("daemon.json");
        Files.writeString(config, "{\n  \"data-root\": \"/tmp/x\"\n  \"log-level\": \"debug\"\n}\n");
        Commands.Result result = Commands.run(distribution().resolve("bin/berthd").toString(),
                "--config-file", config.toString(),
                "--exec-root", dir.resolve("exec").toString(), "-H", "unix://" + dir.resolve("b.sock"));
        assertNotEquals(0, result.exitCode(), result::toString);
        assertTrue(result.stderr().contains(config.toString()), result::toString);
        assertTrue(result.stderr().contains("line 3"), result::toString);
        assertTrue(result.stderr().contains("was expecting comma"), result::toString);
        assertFalse(Files.exists(dir.resolve("b.sock")));
    }

    @Test
    void sigtermStopsTheDaemonCleanlyWithExitCodeZero(@TempDir Path dir) throws Exception {
        BerthDaemon own = BerthDaemon.start(distribution(), dir.resolve("daemon"));
        try {
            assertEquals(0, own.terminate(), own::logText);
            assertFalse(Files.exists(own.socket), "socket removed");
            assertFalse(Files.exists(own.root.resolve("exec/berthd.pid")), "pid file removed");
            String log = own.logText();
            assertTrue(log.indexOf("stopping") < log.indexOf("berth stopped"), log);
        } finally {
            own.close();
        }
    }

    @Test
    void aBundleDroppedIntoDeployStartsAndGoesAwayWhenDeleted(@TempDir Path dir) throws Exception {
        // A private copy of the distribution, so the build's deploy/ folder stays empty.
        Path copy = dir.resolve("berth");
        Commands.Result cp = Commands.run("cp", "-a", distribution().toString(), copy.toString());
        assertEquals(0, cp.exitCode(), cp::toString);
        try (BerthDaemon own = BerthDaemon.start(copy, dir.resolve("daemon"))) {
            Path jar = copy.resolve("deploy/hello.jar");
            TestBundles.write(jar, "io.berth.itests.hello", "1.0.0");
            Await.until("the dropped bundle to be active", () -> lb(own),
                    text -> text.lines().anyMatch(line -> line.contains("Active") && line.contains("io.berth.itests.hello (1.0.0)")),
                    () -> lb(own));
            Files.delete(jar);
            Await.until("the deleted bundle to be gone", () -> lb(own), text -> !text.contains("io.berth.itests.hello") && text.contains("START LEVEL"),
                    () -> lb(own));
        }
    }

    @Test
    void aNewerDriverJarInDeploySupersedesTheSystemOneUntilItIsRemoved(@TempDir Path dir) throws Exception {
        Path copy = dir.resolve("berth");
        Commands.Result cp = Commands.run("cp", "-a", distribution().toString(), copy.toString());
        assertEquals(0, cp.exitCode(), cp::toString);
        Path systemJar;
        try (Stream<Path> jars = Files.list(copy.resolve("system/20"))) {
            systemJar = jars.filter(jar -> jar.getFileName().toString().startsWith("storage-vfs-")).findFirst().orElseThrow();
        }
        try (BerthDaemon own = BerthDaemon.start(copy, dir.resolve("daemon"))) {
            Path newer = copy.resolve("deploy/storage-vfs.jar");
            TestBundles.withVersion(systemJar, newer, "9.0.0");
            Await.until("the newer vfs to replace the system one", () -> lb(own),
                    text -> text.lines().anyMatch(line -> line.contains("Active") && line.contains("io.berth.storage-vfs (9.0.0)"))
                            && text.lines().anyMatch(line -> line.contains("Resolved") && line.contains("io.berth.storage-vfs (0.1.0")),
                    () -> lb(own));
            Commands.Result drivers = own.shell("berth:drivers");
            assertTrue(drivers.stdout().lines().anyMatch(line -> line.matches("storage\\s+vfs\\s+9\\.0\\.0\\s+ACTIVE.*")),
                    drivers::toString);

            Files.delete(newer);
            Await.until("the system vfs to run again", () -> lb(own),
                    text -> !text.contains("9.0.0")
                            && text.lines().anyMatch(line -> line.contains("Active") && line.contains("io.berth.storage-vfs (0.1.0")),
                    () -> lb(own));
        }
    }

    @Test
    void imagesLoadTagSaveAndRemoveThroughTheShell(@TempDir Path dir) throws Exception {
        Path archive = dir.resolve("hello.tar");
        ImageArchives.dockerArchive(archive, "berth-test/hello:latest", Map.of("hello.txt", "hello\n"));
        Commands.Result load = daemon.shell("berth:load " + archive);
        assertEquals(0, load.exitCode(), load::toString);
        assertTrue(load.stdout().contains("Loaded image: berth-test/hello:latest"), load::toString);

        assertEquals(0, daemon.shell("berth:tag berth-test/hello berth-test/hello:v2").exitCode());
        String images = daemon.shell("berth:images").stdout();
        assertTrue(images.lines().anyMatch(line -> line.matches("berth-test/hello\\s+latest\\s+[0-9a-f]{12}\\s.*")), images);
        assertTrue(images.lines().anyMatch(line -> line.matches("berth-test/hello\\s+v2\\s+[0-9a-f]{12}\\s.*")), images);

        Path saved = dir.resolve("saved.tar");
        Commands.Result save = daemon.shell("berth:save " + saved + " berth-test/hello:v2");
        assertEquals(0, save.exitCode(), save::toString);
        Commands.Result members = Commands.run("tar", "-tf", saved.toString());
        assertTrue(members.stdout().lines().anyMatch("manifest.json"::equals), members::toString);

        Commands.Result untag = daemon.shell("berth:rmi berth-test/hello:v2");
        assertEquals("Untagged: berth-test/hello:v2", untag.stdout().trim(), untag::toString);
        Commands.Result delete = daemon.shell("berth:rmi berth-test/hello");
        assertTrue(delete.stdout().contains("Untagged: berth-test/hello:latest")
                && delete.stdout().contains("Deleted: sha256:"), delete::toString);
        assertFalse(daemon.shell("berth:images").stdout().contains("berth-test/hello"));
        assertTrue(daemon.shell("berth:layers").stdout().lines().noneMatch(line -> line.matches("[0-9a-f]{12}\\s.*")),
                "the layers went with the image");

        Commands.Result reload = daemon.shell("berth:load " + saved);
        assertTrue(reload.stdout().contains("Loaded image: berth-test/hello:v2"), reload::toString);
        assertEquals(0, daemon.shell("berth:rmi berth-test/hello:v2").exitCode());
    }

    @Test
    void pushToTheBuiltInRegistryAndPullBack(@TempDir Path dir) throws Exception {
        Path copy = dir.resolve("berth");
        Commands.Result cp = Commands.run("cp", "-a", distribution().toString(), copy.toString());
        assertEquals(0, cp.exitCode(), cp::toString);
        int port;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        try (BerthDaemon own = BerthDaemon.start(copy, dir.resolve("daemon"))) {
            // The registry server runs once configured: a .cfg in deploy/ is ConfigAdmin configuration.
            Files.writeString(copy.resolve("deploy/io.berth.registry.cfg"), "address=127.0.0.1\nport=" + port + "\n");
            String catalog = "http://127.0.0.1:" + port + "/v2/_catalog";
            Await.until("the registry to answer", () -> curl(catalog), body -> body.startsWith("{"),
                    () -> curl(catalog) + "\nberthd log:\n" + own.logText()); // it once did not, in one CI run of four

            Path archive = dir.resolve("hello.tar");
            ImageArchives.dockerArchive(archive, "berth-test/hello:latest", Map.of("hello.txt", "hello\n"));
            assertEquals(0, own.shell("berth:load " + archive).exitCode());
            String remote = "127.0.0.1:" + port + "/berth-test/hello:v1";
            assertEquals(0, own.shell("berth:tag berth-test/hello " + remote).exitCode());
            Commands.Result push = own.shell("berth:push " + remote);
            assertEquals(0, push.exitCode(), push::toString);
            assertTrue(push.stdout().contains("digest: sha256:"), push::toString);
            assertEquals("{\"repositories\":[\"berth-test/hello\"]}", curl(catalog).trim());

            assertEquals(0, own.shell("berth:rmi " + remote).exitCode());
            assertEquals(0, own.shell("berth:rmi berth-test/hello").exitCode());
            Commands.Result pull = own.shell("berth:pull " + remote);
            assertEquals(0, pull.exitCode(), pull::toString);
            assertTrue(pull.stdout().contains("Downloaded newer image for " + remote), pull::toString);
            String images = own.shell("berth:images").stdout();
            assertTrue(images.contains("127.0.0.1:" + port + "/berth-test/hello"), images);
            Commands.Result again = own.shell("berth:pull " + remote);
            assertTrue(again.stdout().contains("Image is up to date for " + remote), again::toString);
        }
    }

    private static String curl(String url) {
        try {
            Commands.Result result = Commands.run("curl", "-sS", "--max-time", "5", url);
            return result.stdout().isEmpty() ? result.stderr() : result.stdout(); // curl's reason when nothing came
        } catch (Exception e) {
            return e.toString();
        }
    }

    @Test
    void aBrokenImageArchiveIsRefusedWithTheReason(@TempDir Path dir) throws Exception {
        Path archive = dir.resolve("broken.tar");
        Files.write(archive, "this is not a tar archive at all".repeat(40).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Commands.Result load = daemon.shell("berth:load " + archive);
        assertNotEquals(0, load.exitCode(), load::toString);
        assertFalse(load.stderr().isBlank(), load::toString);
        assertEquals(0, daemon.shell("berth:images").exitCode(), "the daemon still answers");
    }

    private static String lb(BerthDaemon daemon) {
        try {
            return daemon.shell("lb -s").stdout();
        } catch (Exception e) {
            return e.toString();
        }
    }

    @Test
    void theMinimalDistributionBootsToo(@TempDir Path dir) throws Exception {
        Path minimal = Path.of(System.getProperty("berth.distribution.minimal"));
        try (BerthDaemon own = BerthDaemon.start(minimal, dir.resolve("daemon"))) {
            Commands.Result info = own.shell("berth:info");
            assertEquals(0, info.exitCode(), info::toString);
            for (String subsystem : SUBSYSTEMS) {
                assertTrue(info.stdout().lines().anyMatch(line -> line.contains(" Active ") && line.endsWith(" " + subsystem)),
                        subsystem + " in:\n" + info.stdout());
            }
            for (String extra : FULL_ONLY) {
                assertTrue(info.stdout().lines().noneMatch(line -> line.endsWith(" " + extra)),
                        extra + " is not part of berth-minimal:\n" + info.stdout());
            }
        }
    }
}
