package io.berth.storage.vfs;

import io.berth.spi.storage.StorageDriver;
import io.berth.storage.testsuite.StorageDriverConformanceTest;
import java.nio.file.Path;

/** vfs runs the storage conformance suite. */
class VfsConformanceTest extends StorageDriverConformanceTest {

    @Override
    protected StorageDriver newDriver(Path root) throws Exception {
        return new VfsStorageDriver(root);
    }
}
