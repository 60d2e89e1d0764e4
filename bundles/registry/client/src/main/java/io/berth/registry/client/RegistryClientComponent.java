package io.berth.registry.client;

import io.berth.spi.images.ContentStore;
import io.berth.spi.images.Reference;
import io.berth.spi.images.RegistryClient;
import java.io.IOException;
import java.util.Arrays;
import java.util.function.Consumer;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;

/**
 * Registers the {@link RegistryClient} service, configured from the daemon's
 * settings (PID {@code io.berth.daemon}: daemon.json's {@code registry-mirrors}
 * and {@code insecure-registries}); without that configuration it runs with
 * the defaults. A configuration change re-creates it (token caches are lost,
 * which only costs a new token).
 */
@Component(service = RegistryClient.class, configurationPid = RegistryClientComponent.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
public class RegistryClientComponent implements RegistryClient {

    public static final String PID = "io.berth.daemon";

    /** The daemon configuration's keys this component reads ({@code $_$} stands for {@code -}). */
    public @interface Config {
        String[] registry$_$mirrors() default {};

        String[] insecure$_$registries() default {};
    }

    private final HttpRegistryClient client;

    @Activate
    public RegistryClientComponent(@org.osgi.service.component.annotations.Reference(name = "store") ContentStore store, Config config) {
        client = new HttpRegistryClient(store, new HttpRegistryClient.Settings(
                Arrays.asList(config.registry$_$mirrors()), Arrays.asList(config.insecure$_$registries())));
    }

    @Deactivate
    void stop() {
        client.close();
    }

    @Override
    public Pulled pull(Reference reference, String platform, Credentials credentials, Consumer<Progress> progress)
            throws IOException {
        return client.pull(reference, platform, credentials, progress);
    }

    @Override
    public Pulled pull(Reference reference, String platform, Credentials credentials, Consumer<Progress> progress,
                       PullListener listener) throws IOException {
        return client.pull(reference, platform, credentials, progress, listener);
    }

    @Override
    public java.util.List<SearchResult> search(String term, int limit, Credentials credentials) throws IOException {
        return client.search(term, limit, credentials);
    }

    @Override
    public String push(Reference reference, byte[] manifest, String mediaType, Credentials credentials,
                       Consumer<Progress> progress) throws IOException {
        return client.push(reference, manifest, mediaType, credentials, progress);
    }
}
