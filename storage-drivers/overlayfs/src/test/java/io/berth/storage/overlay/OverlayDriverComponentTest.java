package io.berth.storage.overlay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.spi.driver.Driver;
import io.berth.spi.kernel.KernelProperties;
import io.berth.spi.storage.DiffDriver;
import io.berth.spi.storage.StorageDriver;
import io.berth.storage.support.Commands;
import io.berth.storage.support.MountTable;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

/** The DS wiring: where the driver lives, what it is registered as, and that deactivation leaves mounts alone. */
class OverlayDriverComponentTest {

    @TempDir
    Path dataRoot;

    private final AtomicReference<Object> service = new AtomicReference<>();
    private final AtomicReference<String[]> classes = new AtomicReference<>();
    private final AtomicReference<Dictionary<String, ?>> properties = new AtomicReference<>();
    private final AtomicBoolean unregistered = new AtomicBoolean();

    @AfterEach
    void unmountEverything() throws IOException {
        List<Path> left = new ArrayList<>(MountTable.read().below(dataRoot.toRealPath()));
        for (Path mount : left) {
            Commands.run(List.of("umount", "-l", mount.toString()), null, OverlayStorageDriver.COMMAND_TIMEOUT);
        }
        assertTrue(left.isEmpty(), "mounts left behind: " + left);
    }

    @Test
    void registersTheDriverUnderDataRootAndLeavesItsMountsOnDeactivation() throws Exception {
        OverlayDriverComponent component = new OverlayDriverComponent(context());
        assertEquals(List.of(StorageDriver.class.getName(), DiffDriver.class.getName()), List.of(classes.get()));
        assertEquals(StorageDriver.TYPE_STORAGE, properties.get().get(Driver.TYPE));
        assertEquals(OverlayStorageDriver.NAME, properties.get().get(Driver.NAME));
        OverlayStorageDriver driver = (OverlayStorageDriver) service.get();
        assertNotNull(driver);
        assertEquals(dataRoot.toRealPath().resolve("overlay2"), driver.root());
        assertTrue(driver.status().isActive(), driver.status().reason());

        driver.create("base", null);
        driver.createReadWrite("container", "base");
        Path view = driver.get("container");
        component.stop();
        assertTrue(unregistered.get());
        assertTrue(MountTable.read().isMountPoint(view), "deactivation unmounts nothing");

        new OverlayDriverComponent(context());
        OverlayStorageDriver next = (OverlayStorageDriver) service.get();
        assertEquals(1, next.mountCount("container"));
        next.put("container");
        assertFalse(MountTable.read().isMountPoint(view));
    }

    /** Just enough of a BundleContext: the data-root property and one service registration. */
    @SuppressWarnings("unchecked")
    private BundleContext context() {
        ServiceRegistration<?> registration = (ServiceRegistration<?>) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ServiceRegistration.class}, (proxy, method, args) -> {
                    if (method.getName().equals("unregister")) {
                        unregistered.set(true);
                        return null;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
        return (BundleContext) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {BundleContext.class},
                (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "getProperty":
                            return KernelProperties.DATA_ROOT.equals(args[0]) ? dataRoot.toString() : null;
                        case "registerService":
                            classes.set((String[]) args[0]);
                            service.set(args[1]);
                            properties.set((Dictionary<String, ?>) args[2]);
                            return registration;
                        default:
                            throw new UnsupportedOperationException(method.getName());
                    }
                });
    }
}
