package io.berth.images;

import io.berth.spi.images.ContentStore;
import io.berth.spi.kernel.KernelProperties;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/**
 * The content store service, at {@code <data-root>/image/content/}.
 * Activation removes whatever an interrupted write left behind.
 */
@Component(service = ContentStore.class)
public class ContentStoreComponent implements ContentStore {

    private final FileContentStore store;

    @Activate
    public ContentStoreComponent(BundleContext context) throws IOException {
        String dataRoot = context.getProperty(KernelProperties.DATA_ROOT);
        if (dataRoot == null || dataRoot.isBlank()) {
            throw new IllegalStateException("framework property " + KernelProperties.DATA_ROOT + " is not set");
        }
        store = new FileContentStore(Path.of(dataRoot, "image", "content"));
    }

    @Override
    public String write(InputStream content, String expectedDigest, long expectedSize) throws IOException {
        return store.write(content, expectedDigest, expectedSize);
    }

    @Override
    public InputStream read(String digest) throws IOException {
        return store.read(digest);
    }

    @Override
    public boolean exists(String digest) {
        return store.exists(digest);
    }

    @Override
    public long size(String digest) throws IOException {
        return store.size(digest);
    }

    @Override
    public boolean delete(String digest) throws IOException {
        return store.delete(digest);
    }

    @Override
    public List<String> list() throws IOException {
        return store.list();
    }
}
