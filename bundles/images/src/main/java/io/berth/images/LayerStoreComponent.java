package io.berth.images;

import io.berth.spi.driver.Driver;
import io.berth.spi.idmap.IdMap;
import io.berth.spi.images.Layer;
import io.berth.spi.images.LayerStore;
import io.berth.spi.kernel.KernelProperties;
import io.berth.spi.storage.Change;
import io.berth.spi.storage.StorageDriver;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * The layer store service, at {@code <data-root>/image/layers/}. Storage
 * drivers may come and go (a driver bundle being updated); the store looks
 * them up by name at each use. Configured by daemon.json's
 * {@code storage-driver}.
 */
@Component(service = LayerStore.class, configurationPid = KernelProperties.DAEMON_PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
public class LayerStoreComponent implements LayerStore, StorageDrivers {

    private static final System.Logger LOG = System.getLogger("berth.images");

    /** The part of daemon.json this component reads. */
    @interface DaemonSettings {
        String storage$_$driver() default "";
    }

    private final Map<String, StorageDriver> drivers = new ConcurrentHashMap<>();
    private final FileLayerStore store;
    private volatile String configured;

    @Activate
    public LayerStoreComponent(BundleContext context, DaemonSettings settings) throws IOException {
        configured = settings.storage$_$driver();
        Path root = Path.of(context.getProperty(KernelProperties.DATA_ROOT), "image", "layers");
        store = new FileLayerStore(root, this, () -> Optional.ofNullable(configured).filter(s -> !s.isBlank()));
    }

    @Modified
    void modified(DaemonSettings settings) {
        configured = settings.storage$_$driver();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addDriver(StorageDriver driver, Map<String, Object> properties) {
        drivers.put(String.valueOf(properties.get(Driver.NAME)), driver);
        try {
            store.removeUnfinished(); // what a crash left in this driver
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot remove unfinished layers: " + e.getMessage(), e);
        }
    }

    void removeDriver(StorageDriver driver, Map<String, Object> properties) {
        drivers.remove(String.valueOf(properties.get(Driver.NAME)), driver);
    }

    @Override
    public StorageDriver byName(String name) {
        return drivers.get(name);
    }

    @Override
    public Set<String> activeNames() {
        return drivers.entrySet().stream().filter(entry -> entry.getValue().status().isActive())
                .map(Map.Entry::getKey).collect(Collectors.toSet());
    }

    @Override
    public Layer register(InputStream tar, String parentChainId) throws IOException {
        return store.register(tar, parentChainId);
    }

    @Override
    public LayerChain beginChain(String parentChainId, List<String> diffIds) throws IOException {
        return store.beginChain(parentChainId, diffIds);
    }

    @Override
    public Layer get(String chainId) throws IOException {
        return store.get(chainId);
    }

    @Override
    public List<Layer> layers() throws IOException {
        return store.layers();
    }

    @Override
    public void release(String chainId) throws IOException {
        store.release(chainId);
    }

    @Override
    public String currentDriver() {
        return store.currentDriver();
    }

    @Override
    public void useDriver(String name) {
        store.useDriver(name);
    }

    @Override
    public int migrate(String name) throws IOException {
        return store.migrate(name);
    }

    @Override
    public String createReadWrite(String containerId, String parentChainId, IdMap idMap) throws IOException {
        return store.createReadWrite(containerId, parentChainId, idMap);
    }

    @Override
    public List<String> readWriteParents() throws IOException {
        return store.readWriteParents();
    }

    @Override
    public Path mountReadWrite(String containerId) throws IOException {
        return store.mountReadWrite(containerId);
    }

    @Override
    public void unmountReadWrite(String containerId) throws IOException {
        store.unmountReadWrite(containerId);
    }

    @Override
    public void removeReadWrite(String containerId) throws IOException {
        store.removeReadWrite(containerId);
    }

    @Override
    public List<Change> changes(String containerId) throws IOException {
        return store.changes(containerId);
    }

    @Override
    public InputStream diff(String containerId) throws IOException {
        return store.diff(containerId);
    }
}
