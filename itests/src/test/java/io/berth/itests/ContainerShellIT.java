package io.berth.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Containers through berth-shell against berthd as a process: the real runtime (conmon + runc or crun), an image
 * imported from busybox-static, and containers that outlive a {@code kill -9} of the daemon.
 */
class ContainerShellIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private BerthDaemon daemon;

    @BeforeEach
    void startDaemon() throws Exception {
        daemon = BerthDaemon.start(DistributionBundles.distribution(), dir.resolve("daemon"));
        Path root = Files.createDirectories(dir.resolve("rootfs/bin"));
        Files.copy(Path.of("/bin/busybox"), root.resolve("busybox"));
        // Relative links: busybox --install -s would point them at this temp directory's path.
        for (String applet : run("/bin/busybox", "--list").stdout().split("\n")) {
            if (!applet.isBlank() && !applet.equals("busybox")) {
                Files.createSymbolicLink(root.resolve(applet), Path.of("busybox"));
            }
        }
        Files.createDirectories(dir.resolve("rootfs/etc"));
        Files.writeString(dir.resolve("rootfs/etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n"
                + "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
        Files.writeString(dir.resolve("rootfs/etc/group"), "root:x:0:\nnogroup:x:65534:\n");
        Files.createDirectories(dir.resolve("rootfs/data"));
        Files.writeString(dir.resolve("rootfs/data/seed"), "from the image\n");
        Path tar = dir.resolve("rootfs.tar");
        run("tar", "-C", dir.resolve("rootfs").toString(), "-cf", tar.toString(), ".");
        importBusybox();
    }

    /** Imports itest/busybox:1 (busybox-static, an /etc/passwd, a VOLUME /data with a seed file) into the daemon. */
    private void importBusybox() throws Exception {
        shell("berth:import --change 'CMD [\"sh\"]' --change 'VOLUME /data' " + dir.resolve("rootfs.tar")
                + " itest/busybox:1");
    }

    @AfterEach
    void stopDaemon() throws Exception {
        try {
            if (daemon.process.isAlive()) {
                daemon.shell("berth:ps -aq --no-trunc").stdout().lines()
                        .forEach(id -> quiet(() -> daemon.shell("berth:rm -f -v " + id))); // best effort
            }
        } finally {
            daemon.close();
        }
    }

    private Commands.Result shell(String command) throws Exception {
        Commands.Result result = daemon.shell(command);
        assertEquals(0, result.exitCode(), () -> command + "\n" + result + "\nberthd log:\n" + daemon.logText());
        return result;
    }

    private static Commands.Result run(String... command) throws Exception {
        Commands.Result result = Commands.run(command);
        assertEquals(0, result.exitCode(), () -> String.join(" ", command) + "\n" + result);
        return result;
    }

    private JsonNode inspect(String name) throws Exception {
        return JSON.readTree(shell("berth:inspect " + name).stdout()).get(0);
    }

    @Test
    void runPrintsTheOutputAndEndsWithTheContainersExitCode() throws Exception {
        Commands.Result result = daemon.shell(
                "berth:run --rm itest/busybox:1 sh -c 'echo out; echo err >&2; exit 3'");
        assertEquals(3, result.exitCode(), result::toString);
        assertEquals("out\n", result.stdout());
        assertEquals("err\n", result.stderr());
        assertEquals("", shell("berth:ps -aq").stdout(), "--rm removed it");
    }

    @Test
    void eachContainerRunsWithTheRuntimeItAsksFor() throws Exception {
        for (String runtime : java.util.List.of("runc", "crun")) {
            String name = "with-" + runtime;
            shell("berth:create --name " + name + " --runtime " + runtime + " itest/busybox:1 sh -c 'echo ran; sleep 30'");
            assertEquals(runtime, inspect(name).get("HostConfig").get("Runtime").asText());
            shell("berth:start " + name);
            Await.until(name + " to print", () -> quiet(() -> shell("berth:logs " + name).stdout()), "ran\n"::equals,
                    daemon::logText);
            assertTrue(Files.isDirectory(daemon.root.resolve("data/runtime/" + runtime + "/"
                    + inspect(name).get("Id").asText())), "the container is " + runtime + "'s");
            shell("berth:rm -f " + name);
        }
        assertEquals("runc", inspect(shell("berth:create itest/busybox:1 true").stdout().strip())
                .get("HostConfig").get("Runtime").asText(), "runc is the default on this cgroup v1 hybrid host");
        Commands.Result unknown = daemon.shell("berth:run --rm --runtime nope itest/busybox:1 true");
        assertNotEquals(0, unknown.exitCode());
        assertTrue(unknown.stderr().contains("unknown or invalid runtime name: nope"), unknown::toString);
    }

    @Test
    void aDetachedContainerRunsIsListedLogsStopsAndIsRemoved() throws Exception {
        String id = shell("berth:run -d --name web itest/busybox:1 sh -c 'echo started; exec sleep 1000'")
                .stdout().strip();
        assertTrue(id.matches("[0-9a-f]{64}"), id);
        Await.until("the log line", () -> quiet(() -> shell("berth:logs web").stdout()), "started\n"::equals,
                daemon::logText);
        String ps = shell("berth:ps").stdout();
        assertTrue(ps.contains("web") && ps.contains("Up "), ps);
        JsonNode state = inspect("web").get("State");
        assertEquals("running", state.get("Status").asText());
        long pid = state.get("Pid").asLong();
        assertTrue(Files.exists(Path.of("/proc/" + pid)), "the container's process runs on the host");

        // sleep as PID 1 ignores SIGTERM: stop kills it after the timeout, as Docker does.
        shell("berth:stop -t 1 web");
        state = inspect("web").get("State");
        assertEquals("exited", state.get("Status").asText());
        assertEquals(137, state.get("ExitCode").asInt());
        assertFalse(Files.exists(Path.of("/proc/" + pid)));
        assertTrue(shell("berth:ps -a").stdout().contains("Exited (137)"));
        shell("berth:rm web");
        assertEquals("", shell("berth:ps -aq").stdout());
    }

    @Test
    void runningContainersOutliveAKilledDaemonAndAreReadoptedWithTheirExits() throws Exception {
        shell("berth:run -d --name keeps itest/busybox:1 sleep 1000");
        java.util.Map<String, Long> others = new java.util.TreeMap<>();
        for (int i = 1; i <= 4; i++) {
            shell("berth:run -d --name keeps" + i + " itest/busybox:1 sleep 1000");
            others.put("keeps" + i, inspect("keeps" + i).get("State").get("Pid").asLong());
        }
        shell("berth:run -d --name ends itest/busybox:1 sh -c 'sleep 2; exit 5'");
        shell("berth:run -d --name comes-back --restart always itest/busybox:1 sh -c 'sleep 2; exit 1'");
        long pid = inspect("keeps").get("State").get("Pid").asLong();

        daemon.process.destroyForcibly().waitFor(); // SIGKILL: nothing is stopped on the way out
        assertTrue(Files.exists(Path.of("/proc/" + pid)), "the container kept running without its daemon");
        Thread.sleep(3000); // "ends" and "comes-back" exit while no daemon is there
        daemon = BerthDaemon.start(daemon.distribution, daemon.root);

        JsonNode keeps = inspect("keeps").get("State");
        assertEquals("running", keeps.get("Status").asText());
        assertEquals(pid, keeps.get("Pid").asLong(), "the same process, re-adopted");
        for (java.util.Map.Entry<String, Long> other : others.entrySet()) {
            JsonNode state = inspect(other.getKey()).get("State");
            assertEquals("running", state.get("Status").asText(), other.getKey());
            assertEquals(other.getValue().longValue(), state.get("Pid").asLong(), other.getKey() + " re-adopted");
        }
        JsonNode ends = inspect("ends").get("State");
        assertEquals("exited", ends.get("Status").asText());
        assertEquals(5, ends.get("ExitCode").asInt(), "the exit that happened meanwhile is recorded");
        Await.until("comes-back to be restarted by its policy", () -> quiet(() -> inspect("comes-back")),
                c -> c != null && c.get("RestartCount").asInt() >= 1, daemon::logText);

        shell("berth:stop -t 1 keeps");
        assertEquals(137, inspect("keeps").get("State").get("ExitCode").asInt());
    }

    @Test
    void updatingTheRuntimeContainersAndStorageBundlesLeavesContainersRunning() throws Exception {
        shell("berth:run -d --name survivor itest/busybox:1 sh -c 'while true; do echo tick; sleep 0.2; done'");
        long pid = inspect("survivor").get("State").get("Pid").asLong();
        // Newer builds of runtime-oci and containers (another Bundle-Version); the storage drivers updated in place.
        java.util.Map<String, String> updates = new java.util.LinkedHashMap<>();
        updates.put("io.berth.runtime-oci", newerBuild("22", "runtime-oci"));
        updates.put("io.berth.containers", newerBuild("27", "containers"));
        updates.put("io.berth.storage-overlayfs", "");
        updates.put("io.berth.storage-vfs", "");
        for (java.util.Map.Entry<String, String> update : updates.entrySet()) {
            String name = update.getKey();
            java.util.regex.Matcher line = java.util.regex.Pattern.compile("(?m)^\\s*(\\d+)\\|.*\\|"
                    + java.util.regex.Pattern.quote(name) + " ").matcher(shell("lb -s").stdout());
            assertTrue(line.find(), name);
            shell("update " + line.group(1) + (update.getValue().isEmpty() ? "" : " " + update.getValue()));
            JsonNode state = Await.until("the container to be managed again after updating " + name,
                    () -> quiet(() -> inspect("survivor")), c -> c != null, daemon::logText).get("State");
            assertEquals("running", state.get("Status").asText(), name);
            assertEquals(pid, state.get("Pid").asLong(), "the same process after updating " + name);
        }
        String bundles = shell("lb -s").stdout();
        assertTrue(bundles.contains("io.berth.runtime-oci (0.1.1)") && bundles.contains("io.berth.containers (0.1.1)"),
                bundles);
        assertEquals("still here\n", shell("berth:exec survivor echo still here").stdout(),
                "the new runtime instance works inside the old container");
        String before = shell("berth:logs survivor").stdout();
        Await.until("more output after the updates", () -> quiet(() -> shell("berth:logs survivor").stdout()),
                after -> after != null && after.length() > before.length(), daemon::logText);
        shell("berth:stop -t 1 survivor");
        assertEquals("exited", inspect("survivor").get("State").get("Status").asText());
        assertFalse(Files.exists(Path.of("/proc/" + pid)));
    }

    /** A copy of the distribution's bundle with Bundle-Version 0.1.1, as a file: URL for Felix's update. */
    private String newerBuild(String level, String artifact) throws Exception {
        Path jar;
        try (var jars = Files.list(daemon.distribution.resolve("system/" + level))) {
            jar = jars.filter(p -> p.getFileName().toString().startsWith(artifact + "-")).findFirst().orElseThrow();
        }
        Path newer = dir.resolve(artifact + "-0.1.1.jar");
        TestBundles.withVersion(jar, newer, "0.1.1");
        return newer.toUri().toString();
    }

    @Test
    void namedVolumesKeepDataAndAreCopiedUpFromTheImage() throws Exception {
        shell("berth:volume-create data");
        assertEquals("from the image\n", shell("berth:run --rm -v data:/data itest/busybox:1 cat /data/seed")
                .stdout(), "a new empty volume gets the image's content at its mount point");
        shell("berth:run --rm -v data:/data itest/busybox:1 sh -c 'echo kept > /data/mine'");
        assertEquals("kept\n", shell("berth:run --rm -v data:/data itest/busybox:1 cat /data/mine").stdout());
        shell("berth:create --name user -v data:/data itest/busybox:1 true");
        Commands.Result refused = daemon.shell("berth:volume-rm data");
        assertNotEquals(0, refused.exitCode());
        assertTrue(refused.stderr().contains("volume is in use"), refused::toString);
        shell("berth:rm user");
        shell("berth:volume-rm data");
    }

    @Test
    void isolationAsSeenFromInside() throws Exception {
        String hostname = shell("berth:run --rm --name iso itest/busybox:1 sh -c 'hostname; ps -o pid | wc -l'")
                .stdout();
        String[] lines = hostname.split("\n");
        assertTrue(lines[0].matches("[0-9a-f]{12}"), "the hostname is the container's: " + lines[0]);
        assertTrue(Integer.parseInt(lines[1].strip()) <= 4, "only the container's processes are visible: " + hostname);
        Commands.Result mount = daemon.shell("berth:run --rm itest/busybox:1 mount -t tmpfs none /mnt");
        assertNotEquals(0, mount.exitCode(), "mount is denied: " + mount);
        assertEquals("00000000a80425fb\n", shell("berth:run --rm itest/busybox:1 sh -c "
                + "'grep CapEff /proc/self/status | cut -f2'").stdout(), "Docker's default capabilities");
        Commands.Result readOnly = daemon.shell("berth:run --rm --read-only itest/busybox:1 touch /x");
        assertNotEquals(0, readOnly.exitCode());
        assertTrue(readOnly.stderr().contains("Read-only file system"), readOnly::toString);
        Commands.Result pids = daemon.shell("berth:run --rm --pids-limit 10 itest/busybox:1 sh -c "
                + "'for i in $(seq 1 20); do sleep 5 & done; wait'");
        assertTrue(pids.stderr().contains("can't fork") || pids.stderr().contains("Resource temporarily unavailable"),
                "the pids limit holds: " + pids);
        shell("berth:run -d --name hog -m 8m --memory-swap 8m itest/busybox:1 sh -c "
                + "'x=a; while true; do x=$x$x; done'");
        assertEquals("137\n", shell("berth:wait hog").stdout());
        assertTrue(inspect("hog").get("State").get("OOMKilled").asBoolean(), "OOM reported in inspect");
    }

    @Test
    void bindMountsSeeHostFilesAndLogsFollowToTheEnd() throws Exception {
        Path host = Files.createDirectories(dir.resolve("host-dir"));
        Files.writeString(host.resolve("from-host"), "host file\n");
        assertEquals("host file\n", shell("berth:run --rm -v " + host + ":/srv:ro itest/busybox:1 cat /srv/from-host")
                .stdout());
        shell("berth:run --rm -v " + host + ":/srv itest/busybox:1 sh -c 'echo back > /srv/from-container'");
        assertEquals("back\n", Files.readString(host.resolve("from-container")));
        shell("berth:run -d --name counter itest/busybox:1 sh -c 'for i in 1 2 3; do echo $i; sleep 0.3; done'");
        assertEquals("1\n2\n3\n", shell("berth:logs -f counter").stdout(), "logs -f ends when the container does");
    }

    /**
     * daemon.json {@code "userns-remap": "default"} as with dockerd: the user dockremap (created if missing, and
     * removed again afterwards if this test created it) and its subordinate ids.
     */
    @Test
    void userNamespacesRemapRootToTheSubordinateIds() throws Exception {
        boolean hadDockremap = Commands.run("getent", "passwd", "dockremap").exitCode() == 0;
        daemon.close();
        Path config = Files.writeString(dir.resolve("userns.json"), "{\"userns-remap\": \"default\"}");
        Files.setAttribute(dir, "unix:mode", 0711); // JUnit's 0700 would keep the remapped root out
        daemon = BerthDaemon.start(DistributionBundles.distribution(), dir.resolve("userns-daemon"),
                "--config-file", config.toString());
        try {
            importBusybox();
            long start = Long.parseLong(run("sh", "-c", "grep '^dockremap:' /etc/subuid | head -1 | cut -d: -f2")
                    .stdout().strip());

            String inside = shell("berth:run --rm itest/busybox:1 sh -c 'cat /proc/self/uid_map; id -u; "
                    + "stat -c %u:%g /bin/busybox /etc/hosts; touch /new && echo written'").stdout();
            assertTrue(inside.matches("(?s)\\s*0\\s+" + start + "\\s+65536\\s*\n0\n0:0\n0:0\nwritten\n"),
                    "root is the container's own, and owns the image's files and /etc/hosts: " + inside);

            shell("berth:run -d --name sleeper itest/busybox:1 sleep 600");
            long pid = inspect("sleeper").get("State").get("Pid").asLong();
            String status = Files.readString(Path.of("/proc/" + pid + "/status"));
            assertTrue(status.contains("\nUid:\t" + start + "\t"), "on the host it runs as " + start + ":\n" + status);
            shell("berth:exec sleeper sh -c 'echo made > /made-here'");
            assertTrue(shell("berth:run --rm --runtime crun itest/busybox:1 cat /proc/self/uid_map").stdout()
                    .matches("\\s*0\\s+" + start + "\\s+65536\\s*"), "crun maps the same");

            daemon.process.destroyForcibly().waitFor(); // kill -9: the container and its bound rootfs stay
            daemon = BerthDaemon.start(DistributionBundles.distribution(), dir.resolve("userns-daemon"),
                    "--config-file", config.toString());
            assertEquals(pid, inspect("sleeper").get("State").get("Pid").asLong(), "re-adopted");
            assertEquals("made\n", shell("berth:exec sleeper cat /made-here").stdout());
            shell("berth:rm -f sleeper");
            assertFalse(Files.readString(Path.of("/proc/self/mountinfo")).contains(dir.resolve("userns-daemon")
                    .toString() + "/data/runtime"), "the bound rootfs went with the container");

            shell("berth:run --rm -v data:/data itest/busybox:1 sh -c 'echo mine > /data/mine'");
            Path volume = daemon.root.resolve("data/volumes/data/_data");
            assertEquals((int) start, Files.getAttribute(volume.resolve("mine"), "unix:uid"),
                    "a volume's files belong to the mapped ids on the host");
            assertEquals((int) start, Files.getAttribute(volume.resolve("seed"), "unix:uid"), "copied up, shifted");

            String host = shell("berth:run --rm --userns host itest/busybox:1 sh -c 'cat /proc/self/uid_map; "
                    + "stat -c %u /data/seed' ").stdout();
            assertTrue(host.matches("(?s)\\s*0\\s+0\\s+4294967295\\s*\n0\n"), "--userns=host: " + host);

            shell("berth:create --name kept itest/busybox:1 sh -c 'echo c > /committed'");
            shell("berth:start kept");
            assertEquals("0\n", shell("berth:wait kept").stdout());
            shell("berth:commit kept itest/committed:1");
            Path export = dir.resolve("export.tar");
            shell("berth:export -o " + export + " kept");
            String listing = run("tar", "--numeric-owner", "-tvf", export.toString()).stdout();
            assertTrue(listing.lines().filter(l -> l.endsWith(" ./committed") || l.endsWith(" committed"))
                    .allMatch(l -> l.contains(" 0/0 ")) && listing.contains("committed"),
                    "export gives the container's owners: " + listing);
            assertEquals("0\nc\n", shell("berth:run --rm --userns host itest/committed:1 sh -c "
                    + "'stat -c %u /committed; cat /committed'").stdout(), "commit stores the container's owners");
            shell("berth:rm kept");

            Commands.Result privileged = daemon.shell("berth:run --rm --privileged itest/busybox:1 true");
            assertNotEquals(0, privileged.exitCode());
            assertTrue(privileged.stderr().contains("privileged mode is incompatible with user namespaces"),
                    privileged::toString);
            Commands.Result badMode = daemon.shell("berth:run --rm --userns other itest/busybox:1 true");
            assertTrue(badMode.stderr().contains("invalid USER mode"), badMode::toString);
            assertEquals("", shell("berth:ps -aq").stdout(), "refused containers leave nothing");
        } finally {
            stopDaemon();
            if (!hadDockremap) {
                Commands.run("userdel", "dockremap");
            }
        }
    }

    @Test
    void badInputIsRefusedWithAReasonAndCreatesNothing() throws Exception {
        Commands.Result unknownImage = daemon.shell("berth:run --rm itest/none:1 true");
        assertNotEquals(0, unknownImage.exitCode());
        assertTrue(unknownImage.stderr().contains("No such image"), unknownImage::toString);
        Commands.Result badMemory = daemon.shell("berth:run -m lots itest/busybox:1 true");
        assertTrue(badMemory.stderr().contains("invalid size"), badMemory::toString);
        Commands.Result unknownFlag = daemon.shell("berth:run --bogus itest/busybox:1 true");
        assertTrue(unknownFlag.stderr().contains("--bogus"), unknownFlag::toString);
        Commands.Result badUser = daemon.shell("berth:run -u nosuchuser itest/busybox:1 true");
        assertNotEquals(0, badUser.exitCode());
        assertTrue(badUser.stderr().contains("nosuchuser"), badUser::toString);
        Commands.Result missing = daemon.shell("berth:run itest/busybox:1 /no/such/command");
        assertEquals(127, missing.exitCode(), missing::toString);
        assertTrue(missing.stderr().contains("/no/such/command"), missing::toString);
        assertEquals("", shell("berth:ps -aq").stdout());
    }

    /** berth-shell with a file as its stdin. */
    private Commands.Result shellWithStdin(String stdin, String command) throws Exception {
        Path file = Files.writeString(dir.resolve("stdin.txt"), stdin);
        return Commands.run(file, daemon.distribution.resolve("bin/berth-shell").toString(), "-H",
                "unix://" + daemon.socket, "-c", command);
    }

    /** The berth-shell command line for {@link Pty}: the command quoted for sh. */
    private String shellLine(String command) {
        return daemon.distribution.resolve("bin/berth-shell") + " -H unix://" + daemon.socket + " -c '"
                + command.replace("'", "'\\''") + "'";
    }

    @Test
    void stdinReachesRunIAndExecIAndItsEndClosesTheContainersStdin() throws Exception {
        Commands.Result cat = shellWithStdin("hi\n", "berth:run -i --rm itest/busybox:1 cat");
        assertEquals(0, cat.exitCode(), cat::toString);
        assertEquals("hi\n", cat.stdout());
        Commands.Result counted = shellWithStdin("a\nb\nc\n",
                "berth:run -i --rm itest/busybox:1 sh -c 'wc -l; echo done >&2; exit 3'");
        assertEquals(3, counted.exitCode(), counted::toString);
        assertEquals("3\n", counted.stdout().stripLeading(), "EOF on stdin ended wc");
        assertEquals("done\n", counted.stderr());

        shell("berth:run -d --name target itest/busybox:1 sleep 1000");
        Commands.Result exec = shellWithStdin("into exec\n", "berth:exec -i target sh -c 'cat > /in; cat /in; exit 4'");
        assertEquals(4, exec.exitCode(), exec::toString);
        assertEquals("into exec\n", exec.stdout());
        assertEquals("", shell("berth:exec target cat /in").stdout().replace("into exec\n", ""),
                "the file holds what came through stdin");

        // A command that does not read stdin does not wait for it: stdin here is a pipe that never ends.
        Process open = new ProcessBuilder(daemon.distribution.resolve("bin/berth-shell").toString(), "-H",
                "unix://" + daemon.socket, "-c", "berth:run --rm itest/busybox:1 echo no stdin needed").start();
        try {
            assertTrue(open.waitFor(Await.LIMIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS),
                    "berth:run without -i ended while its stdin stayed open");
            assertEquals("no stdin needed\n", new String(open.getInputStream().readAllBytes()));
            assertEquals(0, open.exitValue());
        } finally {
            open.destroyForcibly();
        }
    }

    @Test
    void runItAndExecItUnderATerminalSeeTheTerminalAndItsSize() throws Exception {
        try (Pty pty = Pty.start(33, 101, shellLine(
                "berth:run -it --rm itest/busybox:1 sh -c 'tty; read x; stty size; echo got=$x; exit 5'"))) {
            pty.await("/dev/pts/");
            pty.type("go\r");
            String out = pty.finish();
            assertTrue(out.contains("33 101\n"), "the container's terminal has the caller's size:\n" + out);
            assertTrue(out.contains("got=go\n"), out);
            assertTrue(out.contains("exit=5"), "run -it ends with the container's status:\n" + out);
        }
        assertEquals("", shell("berth:ps -aq").stdout(), "--rm removed it");

        shell("berth:run -d --name target itest/busybox:1 sleep 1000");
        try (Pty pty = Pty.start(20, 70, shellLine("berth:exec -it target sh -c 'tty; read x; stty size; exit 6'"))) {
            pty.await("/dev/pts/");
            pty.type("x\r");
            String out = pty.finish();
            assertTrue(out.contains("20 70\n"), out);
            assertTrue(out.contains("exit=6"), out);
        }
        try (Pty pty = Pty.start(24, 80, shellLine("berth:run -t --rm itest/busybox:1 tty"))) {
            String out = pty.finish();
            assertTrue(out.matches("(?s).*/dev/pts/\\d+\n.*exit=0.*"), "-t alone: a TTY, no stdin:\n" + out);
        }

        Commands.Result noTty = daemon.shell("berth:run -it --rm itest/busybox:1 sh");
        assertEquals(1, noTty.exitCode(), noTty::toString);
        assertTrue(noTty.stderr().contains("the input device is not a TTY"), noTty::toString);
        Commands.Result execNoTty = daemon.shell("berth:exec -it target sh");
        assertTrue(execNoTty.stderr().contains("the input device is not a TTY"), execNoTty::toString);
        assertEquals(1, shell("berth:ps -aq").stdout().lines().count(), "the refused run created nothing");
    }

    @Test
    void attachTalksToARunningContainerAndTheDetachKeysLeaveItRunning() throws Exception {
        shell("berth:run -dit --name talk itest/busybox:1 sh -c 'while read l; do echo got $l; done'");
        try (Pty pty = Pty.start(24, 80, shellLine("berth:attach talk"))) {
            pty.type("hello\r"); // the keys typed before the attachment is made wait in the terminal
            pty.await("got hello");
            pty.type("\u0010\u0011"); // ctrl-p ctrl-q
            String out = pty.finish();
            assertTrue(out.contains("read escape sequence\nexit=0"), out);
        }
        assertEquals("running", inspect("talk").get("State").get("Status").asText(), "detaching left it running");
        try (Pty pty = Pty.start(24, 80, shellLine("berth:attach --detach-keys ctrl-a,d talk"))) {
            pty.type("again\r");
            pty.await("got again");
            pty.type("\u0001d");
            assertTrue(pty.finish().contains("read escape sequence"));
        }
        assertEquals("running", inspect("talk").get("State").get("Status").asText());

        Commands.Result badKeys = daemon.shell("berth:attach --no-stdin --detach-keys ctrl-1 talk");
        assertNotEquals(0, badKeys.exitCode());
        assertTrue(badKeys.stderr().contains("Invalid detach keys (ctrl-1) provided"), badKeys::toString);
        Commands.Result unknown = daemon.shell("berth:attach nosuch");
        assertNotEquals(0, unknown.exitCode());
        assertTrue(unknown.stderr().contains("No such container: nosuch"), unknown::toString);

        // run -it attaches the same way: the keys detach, the container stays
        try (Pty pty = Pty.start(24, 80, shellLine("berth:run -it --name second itest/busybox:1 sh -c "
                + "'echo ready; while read l; do echo got $l; done'"))) {
            pty.await("ready");
            pty.type("\u0010\u0011");
            assertTrue(pty.finish().contains("read escape sequence\nexit=0"));
        }
        assertEquals("running", inspect("second").get("State").get("Status").asText());
        try (Pty pty = Pty.start(24, 80, shellLine("berth:run -it --detach-keys bad-keys itest/busybox:1 sh"))) {
            String out = pty.finish();
            assertTrue(out.contains("Invalid detach keys (bad-keys) provided") && out.contains("exit=125"), out);
        }
        assertEquals(2, shell("berth:ps -aq").stdout().lines().count(), "the refused run left nothing");
    }

    @Test
    void theDaemonsOwnConsoleGivesRunItItsTerminal() throws Exception {
        assertEquals(0, daemon.terminate());
        // bridge none, as BerthDaemon gives every test daemon: no berth0 left on the host
        Path config = Files.writeString(dir.resolve("console.json"), "{\"storage-driver\": \"vfs\", \"bridge\": \"none\"}");
        String berthd = daemon.distribution.resolve("bin/berthd") + " --data-root " + daemon.root.resolve("data")
                + " --exec-root " + daemon.root.resolve("exec") + " -H unix://" + daemon.socket + " --shell"
                + " --config-file " + config;
        try (Pty console = Pty.start(40, 120, berthd)) {
            console.await(" started in "); // the prompt comes earlier, before the commands are registered
            console.type("berth:run -it --rm itest/busybox:1 sh -c 'tty; read x; stty size; echo got=$x; exit 5'\r");
            console.await("/dev/pts/");
            console.type("go\r");
            console.await("exit status 5"); // keys typed before the command has ended are the container's
            console.type("berth:run -i --rm itest/busybox:1 sh -c 'read a; echo got-$a; cat; echo cat-ended'\r");
            console.type("one\r");
            console.await("got-one");
            console.type("\u0004"); // Ctrl-D: the end of stdin
            console.await("cat-ended");
            console.type("berth:ps -a\r");
            console.await("NAMES");
            console.type("berth:create --name completion-target itest/busybox:1 true\r");
            awaitPlain(console, "(?s).*\\n[0-9a-f]{64}\\n.*"); // its id
            console.type("berth:rm completion-t\t"); // Tab completes the container's name
            awaitPlain(console, "(?s).*berth:rm completion-target.*");
            console.type("\r");
            awaitPlain(console, "(?s).*\\ncompletion-target\\n.*"); // what rm removed
            console.type("exit\r");
            String out = console.finish();
            assertTrue(out.contains("40 120\n"), "the container's terminal has the console's size:\n" + out);
            assertTrue(out.contains("got=go\n"), out);
            assertTrue(out.endsWith("exit=0\n"), "exit at the console stops the daemon:\n" + out);
        }
    }

    /** Waits until the console's output, without its colours and cursor moves, matches {@code regex}. */
    private static void awaitPlain(Pty console, String regex) throws InterruptedException {
        Await.until("/" + regex + "/ on the terminal", () -> console.output().replaceAll("\u001B\\[[0-9;?]*[ -/]*[@-~]", "")
                .replaceAll("\u001B[=>]", ""), text -> text.matches(regex), console::output);
    }

    @Test
    void cpCopiesBothWaysByDockersRulesAndThroughATarOnStdinAndStdout() throws Exception {
        shell("berth:run -d --name box itest/busybox:1 sleep 1000");
        Path src = dir.resolve("cp/src");
        Files.createDirectories(src.resolve("sub"));
        Files.writeString(src.resolve("sub/b"), "two\n");
        Files.writeString(src.resolve("a"), "one\n");
        Files.createSymbolicLink(src.resolve("link"), Path.of("a"));

        shell("berth:cp " + dir.resolve("cp/src") + " box:/data");
        assertEquals("two\n", shell("berth:exec box cat /data/src/sub/b").stdout(), "into an existing directory");
        shell("berth:cp " + dir.resolve("cp/src/a") + " box:/data/renamed");
        assertEquals("one\n", shell("berth:exec box cat /data/renamed").stdout(), "a file becomes DEST");
        assertEquals("a\n", shell("berth:exec box readlink /data/src/link").stdout(), "links stay links");

        shell("berth:cp box:/data/src " + dir.resolve("cp/back"));
        assertEquals("two\n", Files.readString(dir.resolve("cp/back/sub/b")), "a directory becomes DEST");
        shell("berth:cp box:/data/src " + dir.resolve("cp/back"));
        assertEquals("one\n", Files.readString(dir.resolve("cp/back/src/a")), "then goes into it");
        shell("berth:cp box:/data/src/. " + dir.resolve("cp/back/src"));
        assertEquals("one\n", Files.readString(dir.resolve("cp/back/src/a")), "SRC/. copies the content");

        // a tar through stdout, binary and whole: busybox itself
        Path out = dir.resolve("busybox.tar");
        Process save = new ProcessBuilder(daemon.distribution.resolve("bin/berth-shell").toString(), "-H",
                "unix://" + daemon.socket, "-c", "berth:cp box:/bin/busybox -").redirectOutput(out.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        assertEquals(0, save.waitFor());
        Path unpacked = Files.createDirectories(dir.resolve("cp/unpacked"));
        run("tar", "-C", unpacked.toString(), "-xf", out.toString());
        assertEquals(-1L, Files.mismatch(Path.of("/bin/busybox"), unpacked.resolve("busybox")),
                "the tar on stdout is byte for byte the container's file");
        // and a tar through stdin
        Path input = dir.resolve("in.tar");
        run("tar", "-C", dir.resolve("cp").toString(), "-cf", input.toString(), "src");
        Commands.Result fromStdin = Commands.run(input, daemon.distribution.resolve("bin/berth-shell").toString(),
                "-H", "unix://" + daemon.socket, "-c", "berth:cp - box:/");
        assertEquals(0, fromStdin.exitCode(), fromStdin::toString);
        assertEquals("two\n", shell("berth:exec box cat /src/sub/b").stdout());

        Commands.Result missing = daemon.shell("berth:cp box:/no/such " + dir.resolve("cp/x"));
        assertNotEquals(0, missing.exitCode());
        assertTrue(missing.stderr().contains("Could not find the file /no/such in container"), missing::toString);
        Commands.Result unknown = daemon.shell("berth:cp nosuch:/data " + dir.resolve("cp/x"));
        assertTrue(unknown.stderr().contains("No such container: nosuch"), unknown::toString);
        Commands.Result noHostFile = daemon.shell("berth:cp " + dir.resolve("cp/none") + " box:/data");
        assertTrue(noHostFile.stderr().contains("no such file or directory"), noHostFile::toString);
        Commands.Result dirOntoFile = daemon.shell("berth:cp box:/data/src " + dir.resolve("cp/src/a"));
        assertTrue(dirOntoFile.stderr().contains("cannot copy a directory to a file"), dirOntoFile::toString);
        assertEquals("one\n", Files.readString(dir.resolve("cp/src/a")), "the refused copy changed nothing");
        assertFalse(Files.exists(dir.resolve("cp/x")));
    }

    private interface Probe<T> {
        T get() throws Exception;
    }

    private static <T> T quiet(Probe<T> probe) {
        try {
            return probe.get();
        } catch (Exception | AssertionError e) {
            return null;
        }
    }
}
