package io.berth.storage.devicemapper;

import io.berth.spi.storage.DiffDriver;
import io.berth.spi.storage.StorageDriver;
import io.berth.storage.archive.NaiveDiffDriver;
import io.berth.storage.vfs.VfsStorageDriver;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Not a test: in the VM ({@link DeviceMapperVmBenchmark}), a chain of LAYERS
 * layers built as an image pull builds them, once with devicemapper and once
 * with vfs on the same memory-backed storage: per layer, the time to create it
 * on its parent (a thin snapshot; a full copy of the parent for vfs) and to
 * apply its diff (a tar of 3 MB: two 1 MB files and 256 files of 4 KB).
 * Prints {@code BENCH <driver> <layer> <create ms> <apply ms>} per layer.
 * Usage: SnapshotBenchmark LAYERS
 */
public final class SnapshotBenchmark {

    private SnapshotBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int layers = Integer.parseInt(args[0]);
        Path work = Path.of("/tmp/berth-bench");
        DeviceMapperStorageDriver devicemapper = GuestPools.open(work.resolve("devicemapper"),
                GuestPools.loopback(1L << 30, 256L << 20, "ext4"));
        try {
            chain("devicemapper", devicemapper, layers);
        } finally {
            GuestPools.tearDown(devicemapper); // thin_check included
        }
        VfsStorageDriver vfs = new VfsStorageDriver(work.resolve("vfs"));
        chain("vfs", vfs, layers);
        for (int i = layers - 1; i >= 0; i--) {
            vfs.remove("layer" + i);
        }
    }

    private static void chain(String name, StorageDriver driver, int layers) throws IOException {
        DiffDriver diffs = NaiveDiffDriver.of(driver);
        String parent = null;
        for (int i = 0; i < layers; i++) {
            byte[] tar = layerTar(i);
            String id = "layer" + i;
            long start = System.nanoTime();
            driver.create(id, parent);
            long created = System.nanoTime();
            diffs.applyDiff(id, parent, new ByteArrayInputStream(tar));
            long applied = System.nanoTime();
            System.out.printf("BENCH %s %d %d %d%n", name, i, (created - start) / 1_000_000,
                    (applied - created) / 1_000_000);
            parent = id;
        }
    }

    /** Layer {@code n}'s content: its own files, so every layer adds 3 MB to the image. */
    private static byte[] layerTar(int n) throws IOException {
        Random random = new Random(n);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            List<byte[]> contents = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                contents.add(new byte[1 << 20]);
            }
            for (int i = 0; i < 256; i++) {
                contents.add(new byte[4096]);
            }
            TarArchiveEntry dir = new TarArchiveEntry("layer" + n + "/");
            tar.putArchiveEntry(dir);
            tar.closeArchiveEntry();
            for (int i = 0; i < contents.size(); i++) {
                byte[] content = contents.get(i);
                random.nextBytes(content);
                TarArchiveEntry entry = new TarArchiveEntry("layer" + n + "/file" + i);
                entry.setSize(content.length);
                tar.putArchiveEntry(entry);
                tar.write(content);
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }
}
