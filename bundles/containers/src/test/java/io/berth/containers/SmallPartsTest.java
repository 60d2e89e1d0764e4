package io.berth.containers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.spi.containers.HostConfig.RestartPolicy;
import io.berth.spi.containers.Top;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Names, signals, restart policies, times, detach keys, runtime choice and {@code ps} parsing. */
class SmallPartsTest {

    @Test
    void namesAreCheckedAsDockerChecksThem() {
        assertEquals("web-1.a_b", ContainerNames.validate("/web-1.a_b"));
        assertEquals("ab", ContainerNames.validate("ab"));
        for (String bad : List.of("a", "-web", "_web", "web/1", "web 1", "wéb", "")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ContainerNames.validate(bad));
            assertEquals("Invalid container name (" + bad + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                    e.getMessage());
        }
    }

    @Test
    void generatedNamesAreAdjectiveSurnameAndFree() {
        ContainerNames names = new ContainerNames(new Random(7));
        Set<String> taken = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            String name = names.generate(taken::contains);
            assertTrue(name.matches("[a-z]+_[a-z]+[0-9]?"), name);
            assertEquals(name, ContainerNames.validate(name));
            assertTrue(taken.add(name), "generated a taken name: " + name);
        }
    }

    @Test
    void signalsByNameNumberAndRealTime() {
        assertEquals(9, Signals.parse("KILL"));
        assertEquals(9, Signals.parse("SIGKILL"));
        assertEquals(9, Signals.parse("sigkill"));
        assertEquals(1, Signals.parse("hup"));
        assertEquals(15, Signals.parse("15"));
        assertEquals(37, Signals.parse("RTMIN+3"));
        assertEquals(62, Signals.parse("SIGRTMAX-2"));
        for (String bad : List.of("FOO", "SIGFOO", "0", "65", "-1", "", "RTMIN+40")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Signals.parse(bad));
            assertEquals("Invalid signal: " + bad, e.getMessage());
        }
    }

    @Test
    void restartPoliciesDecideAsDockersRestartManager() {
        RestartPolicy onFailure2 = new RestartPolicy("on-failure", 2);
        assertTrue(RestartPolicies.shouldRestart(onFailure2, 1, 0));
        assertTrue(RestartPolicies.shouldRestart(onFailure2, 1, 1));
        assertFalse(RestartPolicies.shouldRestart(onFailure2, 1, 2));
        assertFalse(RestartPolicies.shouldRestart(onFailure2, 0, 0));
        assertTrue(RestartPolicies.shouldRestart(new RestartPolicy("on-failure", 0), 3, 1000));
        assertTrue(RestartPolicies.shouldRestart(new RestartPolicy("always", 0), 0, 5));
        assertTrue(RestartPolicies.shouldRestart(new RestartPolicy("unless-stopped", 0), 0, 5));
        assertFalse(RestartPolicies.shouldRestart(new RestartPolicy("no", 0), 1, 0));
        assertFalse(RestartPolicies.shouldRestart(null, 1, 0));
        assertTrue(RestartPolicies.startsWithEngine(new RestartPolicy("always", 0), true));
        assertFalse(RestartPolicies.startsWithEngine(new RestartPolicy("unless-stopped", 0), true));
        assertTrue(RestartPolicies.startsWithEngine(new RestartPolicy("unless-stopped", 0), false));
    }

    @Test
    void backOffDoublesFromHundredMillisecondsUpToAMinuteAndResetsAfterAStableRun() {
        Duration delay = RestartPolicies.nextDelay(null, Duration.ZERO);
        assertEquals(Duration.ofMillis(100), delay);
        delay = RestartPolicies.nextDelay(delay, Duration.ofSeconds(1));
        assertEquals(Duration.ofMillis(200), delay);
        delay = RestartPolicies.nextDelay(delay, Duration.ofSeconds(1));
        assertEquals(Duration.ofMillis(400), delay);
        for (int i = 0; i < 20; i++) {
            delay = RestartPolicies.nextDelay(delay, Duration.ofSeconds(1));
        }
        assertEquals(Duration.ofMinutes(1), delay);
        assertEquals(Duration.ofMillis(100), RestartPolicies.nextDelay(delay, Duration.ofSeconds(10)));
    }

    @Test
    void badRestartPoliciesAreRefusedWithDockersWords() {
        RestartPolicies.validate(new RestartPolicy("", 0), true);
        RestartPolicies.validate(new RestartPolicy("on-failure", 3), false);
        assertEquals("invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure',"
                + " or 'unless-stopped'", assertThrows(IllegalArgumentException.class,
                        () -> RestartPolicies.validate(new RestartPolicy("sometimes", 0), false)).getMessage());
        assertEquals("invalid restart policy: maximum retry count can only be used with 'on-failure'",
                assertThrows(IllegalArgumentException.class,
                        () -> RestartPolicies.validate(new RestartPolicy("always", 2), false)).getMessage());
        assertEquals("invalid restart policy: maximum retry count cannot be negative",
                assertThrows(IllegalArgumentException.class,
                        () -> RestartPolicies.validate(new RestartPolicy("on-failure", -1), false)).getMessage());
        assertEquals("can't create 'AutoRemove' container with restart policy",
                assertThrows(IllegalArgumentException.class,
                        () -> RestartPolicies.validate(new RestartPolicy("always", 0), true)).getMessage());
    }

    @Test
    void timesAreGoRfc3339Nano() {
        assertEquals("0001-01-01T00:00:00Z", Timestamps.format(null));
        assertEquals("2026-11-22T11:29:00Z", Timestamps.format(Instant.parse("2026-11-22T11:29:00Z")));
        assertEquals("2026-11-22T11:29:00.4215Z", Timestamps.format(Instant.parse("2026-11-22T11:29:00.421500Z")));
        assertEquals("2026-11-22T11:29:00.000000001Z",
                Timestamps.format(Instant.parse("2026-11-22T11:29:00.000000001Z")));
        Instant now = Instant.now();
        assertEquals(now, Timestamps.parse(Timestamps.format(now)));
        assertEquals(null, Timestamps.parse(Timestamps.NEVER));
    }

    @Test
    void detachKeysInDockersSyntax() {
        assertArrayEquals(new byte[] {16, 17}, DetachKeys.parse(null));
        assertArrayEquals(new byte[] {16, 17}, DetachKeys.parse("ctrl-p,ctrl-q"));
        assertArrayEquals(new byte[] {'a', 1, 0, 28, 31}, DetachKeys.parse("a,ctrl-a,ctrl-@,ctrl-\\,ctrl-_"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DetachKeys.parse("ctrl-1,q"));
        assertEquals("Invalid detach keys (ctrl-1,q) provided: Unknown character: 'ctrl-1'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DetachKeys.parse("ab"));
    }

    @Test
    void theDefaultRuntimeIsConfiguredMarkedOrAlone() throws IOException {
        assertEquals("crun", Runtimes.choose("crun", Map.of("runc", true, "crun", false)));
        assertEquals("runc", Runtimes.choose("", Map.of("runc", true, "crun", false)));
        assertEquals("crun", Runtimes.choose(null, Map.of("crun", false)));
        assertThrows(IOException.class, () -> Runtimes.choose(null, Map.of()));
        assertThrows(IOException.class, () -> Runtimes.choose(null, Map.of("runc", false, "crun", false)));
        IOException missing = assertThrows(IOException.class, () -> Runtimes.choose("kata", Map.of("runc", true)));
        assertTrue(missing.getMessage().contains("kata"), missing.getMessage());
    }

    @Test
    void psRowsOfTheContainersPidsWithTheCommandWhole() {
        String ps = """
                UID          PID    PPID  C STIME TTY          TIME CMD
                root           1       0  0 10:00 ?        00:00:01 /sbin/init
                root        4242    4240  0 10:01 ?        00:00:00 sleep 1000
                root        4243    4242  0 10:01 ?        00:00:00 sh -c echo a b
                """;
        Top top = ProcessTable.parse(ps, List.of(4242L, 4243L));
        assertEquals(List.of("UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"), top.titles());
        assertEquals(2, top.processes().size());
        assertEquals("sleep 1000", top.processes().get(0).get(7));
        assertEquals("sh -c echo a b", top.processes().get(1).get(7));
        assertNotEquals(List.of(), ProcessTable.parse(ps, List.of(1L)).processes());
    }
}
