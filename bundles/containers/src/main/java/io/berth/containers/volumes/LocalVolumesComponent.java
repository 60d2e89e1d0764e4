package io.berth.containers.volumes;

import io.berth.spi.kernel.KernelProperties;
import io.berth.spi.volumes.Volume;
import io.berth.spi.volumes.VolumeService;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * The volume service at {@code <data-root>/volumes}. Which volumes are in use comes from a {@link VolumeUsers}
 * service (the container lifecycle registers one); while there is none, {@code remove} and {@code prune} are
 * refused rather than guessed. The reference is optional so that the lifecycle can in turn use this component's
 * {@link #volumes()} without a circular dependency.
 */
@Component(service = {VolumeService.class, LocalVolumesComponent.class})
public class LocalVolumesComponent implements VolumeService {

    private final LocalVolumes volumes;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile VolumeUsers users;

    @Activate
    public LocalVolumesComponent(BundleContext context) throws IOException {
        String dataRoot = context.getProperty(KernelProperties.DATA_ROOT);
        if (dataRoot == null || dataRoot.isBlank()) {
            throw new IllegalStateException("framework property " + KernelProperties.DATA_ROOT + " is not set");
        }
        volumes = new LocalVolumes(Path.of(dataRoot, "volumes"), this::containersUsing);
    }

    private List<String> containersUsing(String name) {
        VolumeUsers current = users;
        if (current == null) {
            throw new IllegalStateException("cannot tell whether volume " + name
                    + " is in use: the container service is not running");
        }
        return current.containersUsing(name);
    }

    /** The store itself, for the lifecycle's mount planning and the mounting of tmpfs and bind volumes. */
    public LocalVolumes volumes() {
        return volumes;
    }

    @Override
    public Volume create(String name, Map<String, String> labels, Map<String, String> options) throws IOException {
        return volumes.create(name, labels, options);
    }

    @Override
    public List<Volume> list() throws IOException {
        return volumes.list();
    }

    @Override
    public Volume inspect(String name) throws IOException {
        return volumes.inspect(name);
    }

    @Override
    public void remove(String name, boolean force) throws IOException {
        volumes.remove(name, force);
    }

    @Override
    public List<String> prune(boolean all) throws IOException {
        return volumes.prune(all);
    }
}
