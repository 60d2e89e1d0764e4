package io.berth.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DaemonOptionsTest {

    private static final Path HOME = Path.of("/opt/berth");

    private static DaemonOptions parse(String... args) throws UsageException {
        return DaemonOptions.parse(args, HOME);
    }

    @Test
    void noArgumentsReadTheDefaultConfigFile() throws Exception {
        DaemonOptions options = parse();
        assertEquals(HOME.resolve("etc/daemon.json"), options.configFile());
        assertFalse(options.explicitConfigFile());
        assertEquals(Map.of(), options.flagSettings());
        assertFalse(options.shell());
        assertFalse(options.help());
    }

    @Test
    void dataRootAsSeparateOrInlineValue() throws Exception {
        assertEquals(Map.of("data-root", "/srv/a"), parse("--data-root", "/srv/a").flagSettings());
        assertEquals(Map.of("data-root", "/srv/b"), parse("--data-root=/srv/b").flagSettings());
    }

    @Test
    void repeatedHostsBecomeOneList() throws Exception {
        DaemonOptions options = parse("-H", "unix:///tmp/a.sock", "--host", "unix:///tmp/b.sock",
                "--host=unix:///tmp/c.sock");
        assertEquals(List.of("unix:///tmp/a.sock", "unix:///tmp/b.sock", "unix:///tmp/c.sock"),
                options.flagSettings().get("hosts"));
    }

    @Test
    void configFileFlagMakesTheFileRequired() throws Exception {
        DaemonOptions options = parse("--config-file", "/etc/berth/daemon.json", "-l", "debug");
        assertEquals(Path.of("/etc/berth/daemon.json"), options.configFile());
        assertTrue(options.explicitConfigFile());
        assertEquals(Map.of("log-level", "debug"), options.flagSettings());
    }

    @Test
    void shellAndHelpSwitches() throws Exception {
        assertTrue(parse("--shell").shell());
        assertTrue(parse("--help").help());
        assertFalse(parse("--shell").help());
    }

    @Test
    void unknownFlagIsRefused() {
        UsageException e = assertThrows(UsageException.class, () -> parse("--storage-drvier", "vfs"));
        assertTrue(e.getMessage().startsWith("unknown flag: --storage-drvier"), e.getMessage());
    }

    @Test
    void flagWithoutItsValueIsRefused() {
        UsageException e = assertThrows(UsageException.class, () -> parse("--shell", "--data-root"));
        assertTrue(e.getMessage().startsWith("flag needs an argument: --data-root"), e.getMessage());
        assertThrows(UsageException.class, () -> parse("-H"));
    }
}
