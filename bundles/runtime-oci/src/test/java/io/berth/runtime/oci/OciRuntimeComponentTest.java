package io.berth.runtime.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.spi.driver.Driver;
import io.berth.spi.driver.DriverStatus;
import io.berth.spi.kernel.KernelProperties;
import io.berth.spi.runtime.ContainerRuntime;
import java.lang.annotation.Annotation;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Dictionary;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

/** The DS wiring: one service per runtime, the default marked, daemon.json changes applied without a restart. */
class OciRuntimeComponentTest {

    @TempDir
    Path dataRoot;

    private Path execRoot;
    /** What is registered now: driver name to its properties and service. */
    private final Map<String, Object[]> services = new LinkedHashMap<>();

    @AfterEach
    void removeExecRoot() throws Exception {
        assertTrue(services.isEmpty(), "every runtime unregistered (and closed): " + services.keySet());
        if (execRoot != null) {
            try (var paths = Files.walk(execRoot)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void registersRuncAndCrunWithTheHostsDefaultAndFollowsDaemonJson() throws Exception {
        execRoot = Files.createTempDirectory(Path.of("/tmp"), "bre");
        OciRuntimeComponent component = new OciRuntimeComponent(context(), settings("", ""));
        assertEquals(List.of("runc", "crun"), List.copyOf(services.keySet()));
        String hostDefault = CgroupLayout.detect() == CgroupLayout.UNIFIED ? "crun" : "runc";
        assertEquals(hostDefault, defaultOne());
        for (Object[] service : services.values()) {
            Dictionary<?, ?> properties = (Dictionary<?, ?>) service[0];
            assertEquals(ContainerRuntime.TYPE_RUNTIME, properties.get(Driver.TYPE));
            ConmonRuntime runtime = (ConmonRuntime) service[1];
            assertTrue(runtime.status().isActive(), runtime.status().reason());
            assertEquals(dataRoot.resolve("runtime").resolve(runtime.name()), runtime.stateRoot());
        }

        // a new runtime, made the default, while running
        component.apply(settings("crun-custom", "{\"crun-custom\": {\"path\": \"crun\"},"
                + " \"missing\": {\"path\": \"/opt/none/runtime\"}}"));
        assertEquals(List.of("runc", "crun", "crun-custom", "missing"),
                List.copyOf(services.keySet()));
        assertEquals("crun-custom", defaultOne());
        DriverStatus missing = ((ConmonRuntime) services.get("missing")[1]).status();
        assertEquals(DriverStatus.State.UNSUPPORTED, missing.state());
        assertTrue(missing.reason().contains("/opt/none/runtime"), missing.reason());

        // taken out again
        component.apply(settings("", ""));
        assertEquals(List.of("runc", "crun"), List.copyOf(services.keySet()));
        assertEquals(hostDefault, defaultOne());
        component.stop();
        assertTrue(services.isEmpty());
        for (String name : List.of("runc", "crun", "crun-custom", "missing")) {
            Path socketDir = ConmonRuntime.socketDirFor(execRoot.resolve("runtime").resolve(name));
            assertFalse(Files.exists(socketDir), "closed runtimes leave no empty socket directory: " + socketDir);
        }
    }

    @Test
    void anUnknownDefaultFallsBackToTheHostsDefault() throws Exception {
        execRoot = Files.createTempDirectory(Path.of("/tmp"), "bre");
        OciRuntimeComponent component = new OciRuntimeComponent(context(), settings("nope", "not json"));
        assertEquals(OciRuntimes.defaultRuntime(), defaultOne());
        assertFalse(services.containsKey("nope"));
        component.stop();
    }

    @Test
    void attachSocketLinksStayWithinAUnixSocketAddressWhateverTheRunRoot() {
        Path shallow = Path.of("/run/berth/runtime/runc");
        assertEquals(shallow.resolve("sock"), ConmonRuntime.socketDirFor(shallow));
        Path deep = Path.of("/tmp/" + "deep/".repeat(20) + "runtime/runc");
        Path socketDir = ConmonRuntime.socketDirFor(deep);
        assertTrue(socketDir.startsWith(ConmonRuntime.SHORT_SOCKET_ROOT), socketDir.toString());
        assertEquals(socketDir, ConmonRuntime.socketDirFor(deep), "the same for every instance");
        assertTrue((socketDir + "/" + "f".repeat(64) + "/attach").length() < Posix.MAX_PATH);
    }

    private String defaultOne() {
        return services.entrySet().stream()
                .filter(e -> Boolean.TRUE.equals(((Dictionary<?, ?>) e.getValue()[0]).get(ContainerRuntime.DEFAULT_RUNTIME)))
                .map(Map.Entry::getKey).reduce((a, b) -> a + "," + b).orElse("none");
    }

    private static OciRuntimeComponent.DaemonSettings settings(String defaultRuntime, String runtimes) {
        return new OciRuntimeComponent.DaemonSettings() {
            @Override
            public String default$_$runtime() {
                return defaultRuntime;
            }

            @Override
            public String runtimes() {
                return runtimes;
            }

            @Override
            public Class<? extends Annotation> annotationType() {
                return OciRuntimeComponent.DaemonSettings.class;
            }
        };
    }

    /** Just enough of a BundleContext: the two root properties and service registrations. */
    private BundleContext context() {
        return (BundleContext) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {BundleContext.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "getProperty" -> KernelProperties.DATA_ROOT.equals(args[0]) ? dataRoot.toString()
                            : KernelProperties.EXEC_ROOT.equals(args[0]) ? execRoot.toString() : null;
                    case "registerService" -> register(args[1], (Dictionary<?, ?>) args[2]);
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private ServiceRegistration<?> register(Object service, Dictionary<?, ?> properties) {
        String name = (String) properties.get(Driver.NAME);
        services.put(name, new Object[] {properties, service});
        return (ServiceRegistration<?>) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ServiceRegistration.class}, (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "unregister" -> services.remove(name);
                        case "setProperties" -> services.put(name, new Object[] {args[0], service});
                        default -> throw new UnsupportedOperationException(method.getName());
                    }
                    return null;
                });
    }
}
