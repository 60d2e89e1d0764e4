package io.berth.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataRootLockTest {

    @TempDir
    Path dataRoot;

    /** A second JVM running {@link LockProbe} on the data-root. */
    private Process probe(String... extra) throws IOException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        String[] command = new String[5 + extra.length];
        command[0] = java;
        command[1] = "-cp";
        command[2] = System.getProperty("java.class.path");
        command[3] = LockProbe.class.getName();
        command[4] = dataRoot.toString();
        System.arraycopy(extra, 0, command, 5, extra.length);
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    private static String finish(Process process, int expectedExit) throws Exception {
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(2, TimeUnit.MINUTES), "probe did not finish");
        assertEquals(expectedExit, process.exitValue(), output);
        return output;
    }

    private String lockFile() throws IOException {
        return Files.readString(dataRoot.resolve(DataRootLock.FILE_NAME), StandardCharsets.UTF_8);
    }

    @Test
    void secondProcessIsRefusedWithTheOwnersPid() throws Exception {
        try (DataRootLock held = DataRootLock.acquire(dataRoot)) {
            String output = finish(probe(), 3);
            assertTrue(output.contains("data-root " + dataRoot + " is in use"), output);
            assertTrue(output.contains("(pid " + ProcessHandle.current().pid() + ")"), output);
        }
    }

    @Test
    void lockFileHoldsThePidWhileHeld() throws Exception {
        try (DataRootLock held = DataRootLock.acquire(dataRoot)) {
            assertEquals(ProcessHandle.current().pid() + "\n", lockFile());
        }
        assertEquals("", lockFile());
    }

    @Test
    void closedLockCanBeTakenAgain() throws Exception {
        DataRootLock.acquire(dataRoot).close();
        assertEquals("locked\n", finish(probe(), 0));
        DataRootLock.acquire(dataRoot).close();
    }

    @Test
    void killedOwnerLeavesNoStaleLock() throws Exception {
        Process owner = probe("hold");
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(owner.getInputStream(),
                    StandardCharsets.UTF_8));
            assertEquals("locked", out.readLine());
            assertEquals(owner.pid() + "\n", lockFile());
        } finally {
            owner.destroyForcibly();
            owner.waitFor();
        }
        try (DataRootLock lock = DataRootLock.acquire(dataRoot)) {
            assertEquals(ProcessHandle.current().pid() + "\n", lockFile());
        }
    }
}
