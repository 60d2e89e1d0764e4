package io.berth.storage.btrfs;

import io.berth.spi.storage.StorageDriver;
import io.berth.storage.testsuite.StorageDriverConformanceTest;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.RegisterExtension;

/** btrfs runs the storage conformance suite on a real btrfs filesystem (a loop device made for the class). */
class BtrfsConformanceTest extends StorageDriverConformanceTest {

    @RegisterExtension
    static final LoopBtrfs BTRFS = new LoopBtrfs();

    @Override
    protected Path newRoot(String name) throws IOException {
        return BTRFS.newDirectory(name).resolve("btrfs");
    }

    @Override
    protected StorageDriver newDriver(Path root) throws Exception {
        return new BtrfsStorageDriver(root);
    }
}
