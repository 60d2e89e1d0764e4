package io.berth.itests.bench;

import io.berth.spi.storage.DiffDriver;
import io.berth.spi.storage.StorageDriver;
import io.berth.storage.archive.NaiveDiffDriver;
import io.berth.storage.btrfs.BtrfsStorageDriver;
import io.berth.storage.overlay.OverlayStorageDriver;
import io.berth.storage.vfs.VfsStorageDriver;
import java.io.BufferedInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Not a test: times applyDiff of one layer tar into a fresh layer of a
 * driver, RUNS times, printing one line per run ("apply-diff DRIVER MS").
 * Driven by itests/bench/apply-diff.sh, which times GNU tar beside it.
 * Usage: ApplyDiffBenchmark DRIVER ROOT TAR RUNS
 */
public final class ApplyDiffBenchmark {

    private ApplyDiffBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        String name = args[0];
        Path root = Path.of(args[1]);
        Path tar = Path.of(args[2]);
        int runs = Integer.parseInt(args[3]);
        StorageDriver driver = switch (name) {
            case "vfs" -> new VfsStorageDriver(root);
            case "overlay2" -> new OverlayStorageDriver(root);
            case "btrfs" -> new BtrfsStorageDriver(root);
            default -> throw new IllegalArgumentException("unknown driver " + name);
        };
        if (!driver.status().isActive()) {
            throw new IllegalStateException(name + " is not active here: " + driver.status());
        }
        DiffDriver diffs = NaiveDiffDriver.of(driver);
        for (int run = 0; run < runs; run++) {
            String id = "bench" + run;
            driver.create(id, null);
            long start = System.nanoTime();
            try (InputStream in = new BufferedInputStream(Files.newInputStream(tar), 1 << 20)) {
                diffs.applyDiff(id, null, in);
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            System.out.println("apply-diff " + name + " " + millis);
            driver.remove(id);
        }
    }
}
