package io.berth.containers;

import io.berth.containers.networks.ContainerNetworks;
import io.berth.containers.networks.NetworkServiceComponent;
import io.berth.containers.volumes.LocalVolumesComponent;
import io.berth.containers.volumes.VolumeUsers;
import io.berth.spi.containers.CommitRequest;
import io.berth.spi.containers.Container;
import io.berth.spi.containers.ContainerConfig;
import io.berth.spi.containers.ContainerService;
import io.berth.spi.containers.ContainerUpdate;
import io.berth.spi.containers.ExecConfig;
import io.berth.spi.containers.HostConfig;
import io.berth.spi.containers.LogOptions;
import io.berth.spi.containers.LogReader;
import io.berth.spi.containers.PathStat;
import io.berth.spi.containers.Top;
import io.berth.spi.containers.WaitCondition;
import io.berth.spi.driver.Driver;
import io.berth.spi.events.Events;
import io.berth.spi.idmap.IdMap;
import io.berth.spi.images.Image;
import io.berth.spi.images.ImageStore;
import io.berth.spi.images.ImageUsers;
import io.berth.spi.images.LayerStore;
import io.berth.spi.kernel.KernelProperties;
import io.berth.spi.runtime.Attachment;
import io.berth.spi.runtime.ContainerRuntime;
import io.berth.spi.runtime.ExecProcess;
import io.berth.spi.runtime.ResourceUsage;
import io.berth.spi.storage.Change;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * The container service at {@code <data-root>/containers/}, also telling the image store which images containers
 * use (an {@link ImageUsers} service it registers itself). The image and layer stores are static references (if
 * one goes, this instance closes and a new one re-adopts the running containers); runtimes and the event log may
 * come and go: a runtime that appears has its containers re-adopted. Deactivation never stops a container.
 * Configured by daemon.json's {@code default-runtime} and {@code userns-remap} (both take effect for new
 * containers when they change).
 */
@Component(service = ContainerService.class, immediate = true,
        configurationPid = KernelProperties.DAEMON_PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
public class ContainerServiceComponent implements ContainerService, Runtimes {

    private static final System.Logger LOG = System.getLogger("berth.containers");

    /** The part of daemon.json this component reads. */
    @interface DaemonSettings {
        String default$_$runtime() default "";

        String userns$_$remap() default "";
    }

    /** A runtime service and whether it calls itself the default ({@link ContainerRuntime#DEFAULT_RUNTIME}). */
    private record Present(ContainerRuntime runtime, boolean isDefault) {
    }

    private final Map<String, Present> runtimes = new ConcurrentHashMap<>();
    private final Containers containers;
    private final ServiceRegistration<ImageUsers> imageUsers;
    private final ServiceRegistration<VolumeUsers> volumeUsers;
    private volatile String configuredDefault;
    private final Path dataRoot;
    /** daemon.json's userns-remap, resolved when it is set: the map, or why it cannot be used. */
    private volatile Containers.UserNamespaces userNamespaces;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Events events;

    @Activate
    public ContainerServiceComponent(BundleContext context, DaemonSettings settings,
            @Reference(name = "images") ImageStore images, @Reference(name = "layers") LayerStore layers,
            @Reference(name = "volumes") LocalVolumesComponent volumes,
            @Reference(name = "networks") NetworkServiceComponent networks) throws IOException {
        configuredDefault = settings.default$_$runtime();
        String dataRoot = context.getProperty(KernelProperties.DATA_ROOT);
        if (dataRoot == null || dataRoot.isBlank()) {
            throw new IllegalStateException("framework property " + KernelProperties.DATA_ROOT + " is not set");
        }
        this.dataRoot = Path.of(dataRoot);
        userNamespaces = resolve(settings.userns$_$remap(), this.dataRoot);
        containers = new Containers(Path.of(dataRoot, "containers"), images, layers, volumes.volumes(), this,
                () -> events, () -> userNamespaces.idMap(), new ContainerNetworks(networks.registry()));
        // Registered by hand once this component exists: as a declared service of this component, the image
        // store (which this component needs first) would ask SCR for it while this component is being created,
        // a circular reference SCR refuses.
        ImageUsers users = containers::usersOf;
        imageUsers = context.registerService(ImageUsers.class, users, null);
        VolumeUsers volumeUsers = containers::containersUsing; // by hand too: the volume store needs it
        this.volumeUsers = context.registerService(VolumeUsers.class, volumeUsers, null);
    }

    @Modified
    void modified(DaemonSettings settings) {
        configuredDefault = settings.default$_$runtime();
        userNamespaces = resolve(settings.userns$_$remap(), dataRoot);
    }

    /**
     * Resolves userns-remap once (creating {@code dockremap} for {@code default}); a setting that cannot be used
     * is logged and refuses every new container with the reason, while existing containers go on.
     */
    private static Containers.UserNamespaces resolve(String setting, Path dataRoot) {
        try {
            IdMap idMap = new UsernsRemap(UsernsRemap.UserDatabase.HOST).resolve(setting);
            if (idMap != null) {
                UsernsRemap.makeSearchable(dataRoot);
                LOG.log(System.Logger.Level.INFO, "containers get user namespace " + idMap.key() + " (userns-remap "
                        + setting + ")");
            }
            return () -> idMap;
        } catch (IOException | RuntimeException e) {
            String message = "daemon.json userns-remap \"" + setting + "\" cannot be used: " + e.getMessage();
            LOG.log(System.Logger.Level.ERROR, message);
            return () -> {
                throw new IllegalStateException(message);
            };
        }
    }

    @Deactivate
    void deactivate() {
        imageUsers.unregister();
        volumeUsers.unregister();
        containers.close();
    }

    @Reference(name = "runtimes", cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, updated = "updatedRuntime")
    void addRuntime(ContainerRuntime runtime, Map<String, Object> properties) {
        String name = String.valueOf(properties.get(Driver.NAME));
        runtimes.put(name, new Present(runtime, isDefault(properties)));
        containers.runtimeAdded(name);
    }

    /** The default moved (daemon.json's {@code default-runtime} changed): new containers get the new one. */
    void updatedRuntime(ContainerRuntime runtime, Map<String, Object> properties) {
        runtimes.computeIfPresent(String.valueOf(properties.get(Driver.NAME)), (name, present) ->
                present.runtime() == runtime ? new Present(runtime, isDefault(properties)) : present);
    }

    private static boolean isDefault(Map<String, Object> properties) {
        return Boolean.parseBoolean(String.valueOf(properties.get(ContainerRuntime.DEFAULT_RUNTIME)));
    }

    void removeRuntime(ContainerRuntime runtime, Map<String, Object> properties) {
        String name = String.valueOf(properties.get(Driver.NAME));
        Present present = runtimes.get(name);
        if (present != null && present.runtime() == runtime && runtimes.remove(name, present)) {
            containers.runtimeRemoved(name);
        }
    }

    @Override
    public ContainerRuntime byName(String name) {
        Present present = runtimes.get(name);
        return present == null ? null : present.runtime();
    }

    @Override
    public String defaultName() throws IOException {
        Map<String, Boolean> present = new LinkedHashMap<>();
        runtimes.forEach((name, runtime) -> {
            if (runtime.runtime().status().isActive()) {
                present.put(name, runtime.isDefault());
            }
        });
        return Runtimes.choose(configuredDefault, present);
    }

    @Override
    public void connect(String nameOrId, String network, List<String> aliases) throws IOException {
        containers.connect(nameOrId, network, aliases);
    }

    @Override
    public void disconnect(String nameOrId, String network) throws IOException {
        containers.disconnect(nameOrId, network);
    }

    @Override
    public Container create(String name, ContainerConfig config, HostConfig host,
                            Map<String, List<String>> aliases) throws IOException {
        return containers.create(name, config, host, aliases);
    }

    @Override
    public List<Container> list(boolean all) throws IOException {
        return containers.list(all);
    }

    @Override
    public Container inspect(String nameOrId) throws IOException {
        return containers.inspect(nameOrId);
    }

    @Override
    public boolean start(String nameOrId) throws IOException {
        return containers.start(nameOrId);
    }

    @Override
    public Attachment startAttached(String nameOrId, String detachKeys) throws IOException {
        return containers.startAttached(nameOrId, detachKeys);
    }

    @Override
    public boolean stop(String nameOrId, Integer timeoutSeconds) throws IOException {
        return containers.stop(nameOrId, timeoutSeconds);
    }

    @Override
    public void kill(String nameOrId, String signal) throws IOException {
        containers.kill(nameOrId, signal);
    }

    @Override
    public void restart(String nameOrId, Integer timeoutSeconds) throws IOException {
        containers.restart(nameOrId, timeoutSeconds);
    }

    @Override
    public void remove(String nameOrId, boolean force, boolean volumes) throws IOException {
        containers.remove(nameOrId, force, volumes);
    }

    @Override
    public void pause(String nameOrId) throws IOException {
        containers.pause(nameOrId);
    }

    @Override
    public void unpause(String nameOrId) throws IOException {
        containers.unpause(nameOrId);
    }

    @Override
    public CompletableFuture<Integer> wait(String nameOrId, WaitCondition condition) throws IOException {
        return containers.wait(nameOrId, condition);
    }

    @Override
    public void rename(String nameOrId, String newName) throws IOException {
        containers.rename(nameOrId, newName);
    }

    @Override
    public LogReader logs(String nameOrId, LogOptions options) throws IOException {
        return containers.logs(nameOrId, options);
    }

    @Override
    public Attachment attach(String nameOrId, String detachKeys) throws IOException {
        return containers.attach(nameOrId, detachKeys);
    }

    @Override
    public ExecProcess exec(String nameOrId, ExecConfig exec) throws IOException {
        return containers.exec(nameOrId, exec);
    }

    @Override
    public Top top(String nameOrId, String psArgs) throws IOException {
        return containers.top(nameOrId, psArgs);
    }

    @Override
    public ResourceUsage stats(String nameOrId) throws IOException {
        return containers.stats(nameOrId);
    }

    @Override
    public List<Change> changes(String nameOrId) throws IOException {
        return containers.changes(nameOrId);
    }

    @Override
    public void export(String nameOrId, OutputStream out) throws IOException {
        containers.export(nameOrId, out);
    }

    @Override
    public PathStat stat(String nameOrId, String path) throws IOException {
        return containers.stat(nameOrId, path);
    }

    @Override
    public PathStat copyFrom(String nameOrId, String path, OutputStream tar) throws IOException {
        return containers.copyFrom(nameOrId, path, tar);
    }

    @Override
    public void copyTo(String nameOrId, String path, InputStream tar, boolean noOverwriteDirNonDir)
            throws IOException {
        containers.copyTo(nameOrId, path, tar, noOverwriteDirNonDir);
    }

    @Override
    public Image commit(String nameOrId, CommitRequest request) throws IOException {
        return containers.commit(nameOrId, request);
    }

    @Override
    public Container update(String nameOrId, ContainerUpdate update) throws IOException {
        return containers.update(nameOrId, update);
    }

    @Override
    public List<String> prune() throws IOException {
        return containers.prune();
    }
}
