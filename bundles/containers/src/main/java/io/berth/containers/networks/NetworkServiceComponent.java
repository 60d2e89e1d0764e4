package io.berth.containers.networks;

import io.berth.spi.driver.Driver;
import io.berth.spi.kernel.KernelProperties;
import io.berth.spi.network.Endpoint;
import io.berth.spi.network.NetworkDriver;
import io.berth.spi.network.NetworkResource;
import io.berth.spi.network.NetworkService;
import io.berth.spi.network.PortMapping;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * The engine's networks at {@code <data-root>/networks/}, over the network drivers that are running (they may come
 * and go: a network whose driver is away is not listed and cannot be used until it is back).
 */
@Component(service = {NetworkService.class, NetworkServiceComponent.class})
public class NetworkServiceComponent implements NetworkService {

    private final Map<String, NetworkDriver> drivers = new ConcurrentHashMap<>();
    private final NetworkRegistry registry;

    @Activate
    public NetworkServiceComponent(BundleContext context) throws IOException {
        String dataRoot = context.getProperty(KernelProperties.DATA_ROOT);
        if (dataRoot == null || dataRoot.isBlank()) {
            throw new IllegalStateException("framework property " + KernelProperties.DATA_ROOT + " is not set");
        }
        registry = new NetworkRegistry(Path.of(dataRoot, "networks"), drivers::get,
                () -> List.copyOf(new java.util.TreeSet<>(drivers.keySet())));
    }

    @Reference(name = "drivers", service = NetworkDriver.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            target = "(" + Driver.TYPE + "=" + NetworkDriver.TYPE_NETWORK + ")")
    void addDriver(NetworkDriver driver, Map<String, Object> properties) {
        drivers.put(String.valueOf(properties.get(Driver.NAME)), driver);
    }

    void removeDriver(NetworkDriver driver, Map<String, Object> properties) {
        drivers.remove(String.valueOf(properties.get(Driver.NAME)), driver);
    }

    /** The registry itself, for the container lifecycle (names by address for /etc/hosts). */
    public NetworkRegistry registry() {
        return registry;
    }

    @Override
    public NetworkResource create(String name, String driver, Map<String, String> options, Map<String, String> labels)
            throws IOException {
        return registry.create(name, driver, options, labels);
    }

    @Override
    public List<NetworkResource> list() throws IOException {
        return registry.list();
    }

    @Override
    public NetworkResource inspect(String nameOrId) throws IOException {
        return registry.inspect(nameOrId);
    }

    @Override
    public void remove(String nameOrId) throws IOException {
        registry.remove(nameOrId);
    }

    @Override
    public List<String> prune() throws IOException {
        return registry.prune();
    }

    @Override
    public Endpoint connect(String nameOrId, String containerId, String containerName, Path netns,
                            List<String> aliases, List<PortMapping> ports) throws IOException {
        return registry.connect(nameOrId, containerId, containerName, netns, aliases, ports);
    }

    @Override
    public void disconnect(String nameOrId, String containerId) throws IOException {
        registry.disconnect(nameOrId, containerId);
    }
}
