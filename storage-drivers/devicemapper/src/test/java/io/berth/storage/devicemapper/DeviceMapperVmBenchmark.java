package io.berth.storage.devicemapper;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Not a test (surefire runs it only when named: {@code itests/bench/devicemapper.sh}):
 * boots the VM and runs {@link SnapshotBenchmark} there, leaving its
 * {@code BENCH} lines in {@code target/devicemapper-bench.txt}.
 */
class DeviceMapperVmBenchmark {

    static final int LAYERS = 16;

    @Test
    void createSnapshotAndApplyDiffPerLayerAgainstVfs() throws Exception {
        DeviceMapperVm.Outcome outcome = DeviceMapperVm.run(SnapshotBenchmark.class,
                List.of(Integer.toString(LAYERS)), 280);
        Files.writeString(Path.of("target/devicemapper-bench-console.txt"), outcome.console());
        List<String> lines = outcome.console().lines().filter(line -> line.startsWith("BENCH ")).toList();
        Files.write(Path.of("target/devicemapper-bench.txt"), lines);
        assertEquals(0, outcome.status(), outcome.console());
        assertEquals(2 * LAYERS, lines.size(), outcome.console());
    }
}
