package io.berth.runtime.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.spi.driver.Driver;
import io.berth.spi.kernel.KernelProperties;
import io.berth.spi.runtime.ContainerRuntime;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Hashtable;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;

/**
 * Registers one {@link ContainerRuntime} per OCI runtime: {@code runc} and {@code crun} always (unsupported when not
 * installed), plus those daemon.json's {@code runtimes} names ({@code {"name": {"path": "/usr/bin/x"}}}). A change of
 * {@code runtimes} or {@code default-runtime} takes effect at once for new containers; containers keep running, and
 * a runtime registered again with the same name answers for them from their state on disk. Deactivation only
 * unregisters: the containers live under conmon, outside this JVM.
 */
@Component(service = {}, immediate = true, configurationPid = KernelProperties.DAEMON_PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
public class OciRuntimeComponent {

    private static final System.Logger LOG = System.getLogger("berth.runtime");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Where the runtime's state and the attach socket links go when the kernel names no exec-root. */
    static final String DEFAULT_EXEC_ROOT = "/run/berth";

    /** The part of daemon.json this component reads. */
    @interface DaemonSettings {
        String default$_$runtime() default "";

        /** daemon.json's {@code runtimes} object, as the kernel passes it on: JSON text. */
        String runtimes() default "";
    }

    private record Registered(Path binary, ConmonRuntime runtime, ServiceRegistration<ContainerRuntime> registration) {
    }

    private final BundleContext context;
    private final Path dataRoot;
    private final Path execRoot;
    private final Map<String, Registered> registered = new LinkedHashMap<>();

    @Activate
    public OciRuntimeComponent(BundleContext context, DaemonSettings settings) throws IOException {
        this.context = context;
        String dataRoot = context.getProperty(KernelProperties.DATA_ROOT);
        if (dataRoot == null || dataRoot.isBlank()) {
            throw new IllegalStateException("framework property " + KernelProperties.DATA_ROOT + " is not set");
        }
        this.dataRoot = Path.of(dataRoot);
        String execRoot = context.getProperty(KernelProperties.EXEC_ROOT);
        this.execRoot = Path.of(execRoot == null || execRoot.isBlank() ? DEFAULT_EXEC_ROOT : execRoot);
        apply(settings);
    }

    @Modified
    synchronized void apply(DaemonSettings settings) throws IOException {
        Map<String, Path> wanted = new LinkedHashMap<>();
        for (String builtIn : new String[] {"runc", "crun"}) {
            wanted.put(builtIn, OciRuntimes.find(builtIn).orElse(Path.of("/usr/bin", builtIn)));
        }
        wanted.putAll(configured(settings.runtimes()));
        String defaultName = settings.default$_$runtime().isBlank() ? OciRuntimes.defaultRuntime()
                : settings.default$_$runtime();
        if (!wanted.containsKey(defaultName)) {
            LOG.log(System.Logger.Level.ERROR, "default-runtime \"" + defaultName + "\" is not a runtime berth knows ("
                    + String.join(", ", wanted.keySet()) + "); using " + OciRuntimes.defaultRuntime());
            defaultName = OciRuntimes.defaultRuntime();
        }
        for (Iterator<Map.Entry<String, Registered>> it = registered.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Registered> entry = it.next();
            if (!entry.getValue().binary().equals(wanted.get(entry.getKey()))) {
                unregister(entry.getValue());
                it.remove();
            }
        }
        for (Map.Entry<String, Path> entry : wanted.entrySet()) {
            String name = entry.getKey();
            Hashtable<String, Object> properties = new Hashtable<>();
            properties.put(Driver.TYPE, ContainerRuntime.TYPE_RUNTIME);
            properties.put(Driver.NAME, name);
            properties.put(ContainerRuntime.DEFAULT_RUNTIME, name.equals(defaultName));
            Registered existing = registered.get(name);
            if (existing != null) {
                existing.registration().setProperties(properties);
                continue;
            }
            ConmonRuntime runtime = OciRuntimes.create(name, entry.getValue(), dataRoot,
                    execRoot.resolve("runtime").resolve(name));
            registered.put(name, new Registered(entry.getValue(), runtime,
                    context.registerService(ContainerRuntime.class, runtime, properties)));
        }
    }

    /** daemon.json's {@code runtimes}: name to path; a path without a slash is looked up like a command. */
    static Map<String, Path> configured(String runtimes) {
        Map<String, Path> result = new LinkedHashMap<>();
        if (runtimes == null || runtimes.isBlank()) {
            return result;
        }
        try {
            JsonNode root = JSON.readTree(runtimes);
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> entry = it.next();
                String path = entry.getValue().path("path").asText("");
                if (path.isEmpty()) {
                    LOG.log(System.Logger.Level.ERROR, "runtime \"" + entry.getKey() + "\" in daemon.json's runtimes"
                            + " has no \"path\"; it is left out");
                    continue;
                }
                result.put(entry.getKey(), path.contains("/") ? Path.of(path)
                        : OciRuntimes.find(path).orElse(Path.of("/usr/bin", path)));
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, "daemon.json's runtimes is not a JSON object: " + e.getMessage());
        }
        return result;
    }

    @Deactivate
    synchronized void stop() {
        registered.values().forEach(OciRuntimeComponent::unregister);
        registered.clear();
    }

    private static void unregister(Registered registered) {
        registered.registration().unregister();
        try {
            registered.runtime().close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot stop watching exits of " + registered.runtime().name(), e);
        }
    }
}
