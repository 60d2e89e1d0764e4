package io.berth.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tab completion as berth-shell asks for it ({@code POST /berth/v1/shell/complete} in a session): after a command,
 * the names of the containers, images, networks or volumes it works on, as they are in the running daemon.
 */
class ShellCompletionIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void namesComeFromTheRunningDaemon() throws Exception {
        try (BerthDaemon daemon = BerthDaemon.start(DistributionBundles.distribution(), dir.resolve("daemon"))) {
            DockerCli cli = DockerCli.overSocket(daemon);
            DockerCli.importBusybox(dir, daemon);
            cli.ok("create", "--name", "web", "itest/busybox:1", "true");
            cli.ok("create", "--name", "worker", "itest/busybox:1", "true");
            cli.ok("volume", "create", "data");
            String session = post(daemon, "sessions", "{}").path("Id").asText();

            assertEquals("[\"web\",\"worker\"]", complete(daemon, session, "berth:start w"));
            assertEquals("[\"itest/busybox:1\"]", complete(daemon, session, "berth:run --rm itest/b"));
            assertEquals("[\"data\"]", complete(daemon, session, "berth:volume-rm d"));
            // a test daemon has no bridge driver, so no user networks: the predefined ones
            assertEquals("[\"host\"]", complete(daemon, session, "berth:network-inspect ho"));
            String commands = complete(daemon, session, "berth:sta");
            assertTrue(commands.contains("\"berth:start\"") && commands.contains("\"berth:stats\""), commands);
            cli.ok("rm", "web", "worker");
        }
    }

    private static String complete(BerthDaemon daemon, String session, String line) throws Exception {
        String body = JSON.createObjectNode().put("Session", session).put("Line", line).toString();
        return post(daemon, "complete", body).path("Candidates").toString();
    }

    private static JsonNode post(BerthDaemon daemon, String path, String body) throws Exception {
        Commands.Result result = Commands.run("curl", "-s", "--unix-socket", daemon.socket.toString(), "-X", "POST",
                "-H", "Content-Type: application/json", "-d", body, "http://berth/berth/v1/shell/" + path);
        assertEquals(0, result.exitCode(), result::toString);
        return JSON.readTree(result.stdout());
    }
}
