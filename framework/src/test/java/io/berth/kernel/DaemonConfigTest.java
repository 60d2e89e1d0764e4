package io.berth.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DaemonConfigTest {

    @TempDir
    Path dir;

    private Path daemonJson(String text) throws IOException {
        return Files.writeString(dir.resolve("daemon.json"), text);
    }

    private UsageException refused(String text) throws IOException {
        Path file = daemonJson(text);
        return assertThrows(UsageException.class, () -> DaemonConfig.load(file, false, Map.of()));
    }

    @Test
    void missingFileGivesDockerLikeDefaults() throws Exception {
        DaemonConfig config = DaemonConfig.load(dir.resolve("absent.json"), false, Map.of());

        assertEquals(Path.of("/var/lib/berth"), config.dataRoot());
        assertEquals(Path.of("/run/berth"), config.execRoot());
        assertEquals("info", config.logLevel());
        assertEquals(List.of(new ListenAddress("unix:///run/berth/berth.sock", Path.of("/run/berth/berth.sock"), null)),
                config.hosts());
        assertTrue(config.warnings().isEmpty());
    }

    @Test
    void missingFileThatMustExistIsRefusedNamingThePath() {
        Path absent = dir.resolve("absent.json");
        UsageException e = assertThrows(UsageException.class, () -> DaemonConfig.load(absent, true, Map.of()));
        assertTrue(e.getMessage().contains(absent.toString()), e.getMessage());
    }

    @Test
    void malformedJsonNamesFileAndLine() throws Exception {
        UsageException e = refused("{\n  \"debug\": true\n  \"data-root\": \"/srv/berth\"\n}\n");
        assertTrue(e.getMessage().contains(dir.resolve("daemon.json").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("line 3"), e.getMessage());
    }

    @Test
    void topLevelMustBeAnObject() throws Exception {
        UsageException e = refused("[\"data-root\", \"/srv/berth\"]");
        assertTrue(e.getMessage().contains("must be a JSON object"), e.getMessage());
    }

    @Test
    void valueOfTheWrongTypeIsRefusedNamingTheKey() throws Exception {
        UsageException debug = refused("{\"debug\": \"yes\"}");
        assertTrue(debug.getMessage().contains("\"debug\" must be true or false"), debug.getMessage());

        UsageException hosts = refused("{\"hosts\": \"unix:///x\"}");
        assertTrue(hosts.getMessage().contains("\"hosts\" must be a list of strings"), hosts.getMessage());
    }

    @Test
    void unknownKeysAreWarnedAboutButKept() throws Exception {
        Path file = daemonJson("{\"data-root\": \"/srv/berth\", \"zeta-feature\": 3, \"alpha-feature\": true}");

        DaemonConfig config = DaemonConfig.load(file, true, Map.of());

        assertEquals(Path.of("/srv/berth"), config.dataRoot());
        assertEquals(1, config.warnings().size());
        assertTrue(config.warnings().get(0).contains("alpha-feature, zeta-feature"), config.warnings().get(0));
        assertEquals(3L, config.toConfigurationProperties().get("zeta-feature"));
    }

    @Test
    void keyGivenAsFlagAndInFileIsRefused() throws Exception {
        Path file = daemonJson("{\"data-root\": \"/srv/berth\"}");
        UsageException e = assertThrows(UsageException.class,
                () -> DaemonConfig.load(file, false, Map.of("data-root", "/other")));
        assertTrue(e.getMessage().contains("specified both as a flag and in the configuration file"), e.getMessage());
        assertTrue(e.getMessage().contains("data-root"), e.getMessage());
    }

    @Test
    void flagsApplyWhenTheFileDoesNotSetThem() throws Exception {
        Path file = daemonJson("{\"exec-root\": \"/run/other\"}");
        DaemonConfig config = DaemonConfig.load(file, false, Map.of("data-root", "/srv/berth"));
        assertEquals(Path.of("/srv/berth"), config.dataRoot());
        assertEquals(Path.of("/run/other"), config.execRoot());
    }

    @Test
    void invalidLogLevelIsRefused() throws Exception {
        UsageException e = refused("{\"log-level\": \"verbose\"}");
        assertTrue(e.getMessage().contains("invalid log level: verbose"), e.getMessage());
    }

    @Test
    void tcpWithoutTlsIsRefusedUnlessAskedForAndThenWarned() throws Exception {
        UsageException e = refused("{\"hosts\": [\"unix:///tmp/ok.sock\", \"tcp://127.0.0.1:2375\"]}");
        assertTrue(e.getMessage().contains("does not listen on tcp:// without TLS"), e.getMessage());
        assertTrue(e.getMessage().contains("--tls=false"), e.getMessage());

        Path plain = Files.writeString(dir.resolve("plain.json"), "{\"hosts\": [\"tcp://127.0.0.1:2375\"], \"tls\": false}");
        DaemonConfig config = DaemonConfig.load(plain, true, Map.of());
        assertEquals(new java.net.InetSocketAddress("127.0.0.1", 2375), config.hosts().get(0).tcp());
        assertTrue(config.warnings().get(0).contains("without TLS"), config.warnings().toString());

        DaemonConfig tls = DaemonConfig.load(dir.resolve("absent.json"), false,
                Map.of("hosts", List.of("tcp://127.0.0.1"), "tlsverify", true));
        assertEquals("tcp://127.0.0.1:2376", tls.hosts().get(0).uri(), "dockerd's TLS port by default");
        assertTrue(tls.warnings().isEmpty());
        assertTrue(refused("{\"hosts\": [\"tcp://127.0.0.1:99999\"], \"tlsverify\": true}").getMessage()
                .contains("1 to 65535"));
        assertTrue(refused("{\"hosts\": [\"ssh://x\"]}").getMessage().contains("unix:// and tcp://"));
    }

    @Test
    void configurationPropertiesUseArraysAndEffectiveValues() throws Exception {
        Path file = daemonJson("{\"registry-mirrors\": [\"https://a.example\", \"https://b.example\"],"
                + " \"live-restore\": true}");

        Hashtable<String, Object> properties = DaemonConfig.load(file, false, Map.of()).toConfigurationProperties();

        assertArrayEquals(new String[] {"https://a.example", "https://b.example"},
                (String[]) properties.get("registry-mirrors"));
        assertEquals(Boolean.TRUE, properties.get("live-restore"));
        assertEquals("/var/lib/berth", properties.get("data-root"));
        assertEquals("/run/berth", properties.get("exec-root"));
        assertEquals("info", properties.get("log-level"));
    }

    @Test
    void debugTrueMeansDebugLogging() throws Exception {
        DaemonConfig config = DaemonConfig.load(daemonJson("{\"debug\": true, \"log-level\": \"warn\"}"), false,
                Map.of());
        assertEquals("debug", config.logLevel());
        assertEquals("debug", config.toConfigurationProperties().get("log-level"));
    }
}
