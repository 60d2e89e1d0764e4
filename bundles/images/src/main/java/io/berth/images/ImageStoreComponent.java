package io.berth.images;

import io.berth.spi.images.ContentStore;
import io.berth.spi.images.Image;
import io.berth.spi.images.ImageDiskUsage;
import io.berth.spi.images.ImageHistory;
import io.berth.spi.images.ImagePruneReport;
import io.berth.spi.images.ImageStore;
import io.berth.spi.images.ImageUsers;
import io.berth.spi.images.LayerStore;
import io.berth.spi.images.RegistryClient;
import io.berth.spi.kernel.KernelProperties;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * The image store service, at {@code <data-root>/image/store/}, over the
 * content store and the layer store (mandatory static references: if either
 * goes, this component is deactivated and comes back with the new one), and the
 * registry client for pull and push (optional, dynamic, greedy: it may come and go
 * while the store runs), and every {@link ImageUsers} service (the container store
 * registers one; they may come and go too: each call asks the ones present).
 */
@Component(service = ImageStore.class)
public class ImageStoreComponent implements ImageStore {

    private final FileImageStore store;

    @Reference(name = "registry", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile RegistryClient registry;

    @Reference(name = "users", cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private final List<ImageUsers> users = new CopyOnWriteArrayList<>();

    @Activate
    public ImageStoreComponent(BundleContext context, @Reference(name = "content") ContentStore content,
            @Reference(name = "layers") LayerStore layers)
            throws IOException {
        String dataRoot = context.getProperty(KernelProperties.DATA_ROOT);
        if (dataRoot == null || dataRoot.isBlank()) {
            throw new IllegalStateException("framework property " + KernelProperties.DATA_ROOT + " is not set");
        }
        store = new FileImageStore(Path.of(dataRoot, "image", "store"), content, layers, () -> registry,
                this::usersOf);
    }

    /** What every registered {@link ImageUsers} says, together. */
    private List<ImageUsers.User> usersOf(String imageId) {
        List<ImageUsers.User> all = new ArrayList<>();
        for (ImageUsers source : users) {
            all.addAll(source.usersOf(imageId));
        }
        return all;
    }

    @Override
    public List<Image> list() throws IOException {
        return store.list();
    }

    @Override
    public Image find(String nameOrId) throws IOException {
        return store.find(nameOrId);
    }

    @Override
    public byte[] config(String id) throws IOException {
        return store.config(id);
    }

    @Override
    public void tag(String source, String target) throws IOException {
        store.tag(source, target);
    }

    @Override
    public List<String> remove(String nameOrId, boolean force) throws IOException {
        return store.remove(nameOrId, force);
    }

    @Override
    public List<Image> load(InputStream archive) throws IOException {
        return store.load(archive);
    }

    @Override
    public void save(List<String> namesOrIds, OutputStream out) throws IOException {
        store.save(namesOrIds, out);
    }

    @Override
    public List<String> prune() throws IOException {
        return store.prune();
    }

    @Override
    public Image pull(String reference, String platform, RegistryClient.Credentials credentials,
                      Consumer<RegistryClient.Progress> progress) throws IOException {
        return store.pull(reference, platform, credentials, progress);
    }

    @Override
    public String push(String name, RegistryClient.Credentials credentials,
                       Consumer<RegistryClient.Progress> progress) throws IOException {
        return store.push(name, credentials, progress);
    }

    @Override
    public ImagePruneReport prune(boolean all) throws IOException {
        return store.prune(all);
    }

    @Override
    public Image importImage(InputStream rootfs, String reference, String message, List<String> changes)
            throws IOException {
        return store.importImage(rootfs, reference, message, changes);
    }

    @Override
    public Image commit(String parentId, InputStream layer, io.berth.spi.containers.ContainerConfig config,
                        io.berth.spi.containers.CommitRequest request, String containerId, String createdBy)
            throws IOException {
        return store.commit(parentId, layer, config, request, containerId, createdBy);
    }

    @Override
    public List<ImageHistory> history(String nameOrId) throws IOException {
        return store.history(nameOrId);
    }

    @Override
    public byte[] inspect(String nameOrId) throws IOException {
        return store.inspect(nameOrId);
    }

    @Override
    public ImageDiskUsage diskUsage() throws IOException {
        return store.diskUsage();
    }
}
