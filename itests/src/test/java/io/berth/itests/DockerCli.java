package io.berth.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The docker CLI of this machine ({@code /usr/local/bin/docker}, else Debian's) pointed at one berthd: what the
 * docker CLI tests share.
 */
final class DockerCli {

    private final BerthDaemon daemon;
    /** The arguments that say where the daemon is, e.g. {@code -H unix:///...}. */
    private final List<String> connection;

    DockerCli(BerthDaemon daemon, List<String> connection) {
        this.daemon = daemon;
        this.connection = List.copyOf(connection);
    }

    /** Over the daemon's unix socket. */
    static DockerCli overSocket(BerthDaemon daemon) {
        return new DockerCli(daemon, List.of("-H", "unix://" + daemon.socket));
    }

    /** Over tcp://127.0.0.1:PORT with mutual TLS, the client certificate of {@code pki}. */
    static DockerCli overTls(BerthDaemon daemon, TestPki pki, int port) {
        return new DockerCli(daemon, pki.clientArgs(port));
    }

    /** The command line before the docker command, for sh pipelines (the test's paths have no spaces). */
    String commandLine() {
        return binary() + " " + String.join(" ", connection);
    }

    static String binary() {
        return Files.isExecutable(Path.of("/usr/local/bin/docker")) ? "/usr/local/bin/docker" : "/usr/bin/docker";
    }

    Commands.Result docker(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(binary()));
        command.addAll(connection);
        command.addAll(List.of(args));
        return Commands.run(command.toArray(String[]::new));
    }

    /** Runs it and asserts exit code 0, showing the daemon's log otherwise. */
    Commands.Result ok(String... args) throws Exception {
        Commands.Result result = docker(args);
        assertEquals(0, result.exitCode(), () -> "docker " + String.join(" ", args) + "\n" + result
                + "\nberthd log:\n" + daemon.logText());
        return result;
    }

    /**
     * Writes {@code dir/rootfs.tar}, busybox-static with a few applets and an {@code /etc/passwd}, and imports it
     * into the daemon as {@code itest/busybox:1} with {@code CMD ["sh"]}.
     */
    static Path importBusybox(Path dir, BerthDaemon daemon) throws Exception {
        Path root = Files.createDirectories(dir.resolve("rootfs/bin"));
        Files.copy(Path.of("/bin/busybox"), root.resolve("busybox"));
        for (String applet : List.of("sh", "echo", "sleep", "true", "cat", "httpd", "wget", "grep", "cut", "timeout",
                "ip")) {
            Files.createSymbolicLink(root.resolve(applet), Path.of("busybox"));
        }
        Files.createDirectories(dir.resolve("rootfs/etc"));
        Files.writeString(dir.resolve("rootfs/etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        Path tar = dir.resolve("rootfs.tar");
        Commands.Result packed = Commands.run("tar", "-C", dir.resolve("rootfs").toString(), "-cf", tar.toString(), ".");
        assertEquals(0, packed.exitCode(), packed::toString);
        Commands.Result imported = daemon.shell("berth:import --change 'CMD [\"sh\"]' " + tar + " itest/busybox:1");
        assertEquals(0, imported.exitCode(), imported::toString);
        return tar;
    }
}
