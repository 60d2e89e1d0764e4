package io.berth.storage.devicemapper;

import io.berth.spi.storage.StorageDriver;
import io.berth.storage.testsuite.StorageDriverConformanceTest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;

/**
 * devicemapper runs the storage conformance suite, each test on a pool of its
 * own that is {@code thin_check}ed after the test. Runs in the VM that
 * {@link DeviceMapperVmTest} boots; anywhere without device-mapper every test
 * fails with the reason.
 */
class DeviceMapperConformanceInGuest extends StorageDriverConformanceTest {

    private final List<DeviceMapperStorageDriver> opened = new ArrayList<>();

    @Override
    protected StorageDriver newDriver(Path root) {
        DeviceMapperStorageDriver driver = GuestPools.open(root,
                GuestPools.loopback(GuestPools.DATA, GuestPools.BASE, "ext4"));
        opened.add(driver);
        return driver;
    }

    @AfterEach
    void tearDownPools() throws Exception {
        for (DeviceMapperStorageDriver driver : opened) {
            GuestPools.tearDown(driver);
        }
    }
}
