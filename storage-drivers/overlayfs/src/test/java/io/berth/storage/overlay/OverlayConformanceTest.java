package io.berth.storage.overlay;

import io.berth.spi.storage.StorageDriver;
import io.berth.storage.testsuite.StorageDriverConformanceTest;
import java.nio.file.Path;

/** overlay2 runs the storage conformance suite. */
class OverlayConformanceTest extends StorageDriverConformanceTest {

    @Override
    protected StorageDriver newDriver(Path root) {
        OverlayStorageDriver driver = new OverlayStorageDriver(root);
        if (!driver.status().isActive()) {
            throw new IllegalStateException("overlay2 cannot run here: " + driver.status().reason());
        }
        return driver;
    }
}
