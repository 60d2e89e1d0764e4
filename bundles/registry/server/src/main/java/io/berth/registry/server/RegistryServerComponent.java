package io.berth.registry.server;

import io.berth.spi.kernel.KernelProperties;
import io.berth.spi.registry.LocalRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Hashtable;
import java.util.Map;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Runs the registry server while configuration PID {@code io.berth.registry}
 * exists (unconfigured: not running). A configuration change restarts it.
 * It registers {@link LocalRegistry} itself, once the server listens, rather
 * than through DS: DS would register it before the server had started, and
 * the shell waits for it to know a new configuration took effect.
 */
@Component(immediate = true, service = {}, configurationPid = LocalRegistry.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = RegistryServerComponent.Config.class)
public class RegistryServerComponent implements LocalRegistry {

    private static final System.Logger LOG = System.getLogger("berth.registry");
    /** Blobs younger than this may belong to a push whose manifest has not come yet. */
    static final Duration GC_SPARES_YOUNGER_THAN = Duration.ofHours(1);

    @ObjectClassDefinition(name = "berth registry server")
    public @interface Config {
        @AttributeDefinition(description = "TCP address to listen on")
        String address() default "127.0.0.1";

        @AttributeDefinition(description = "TCP port to listen on")
        int port() default 5000;

        @AttributeDefinition(description = "storage root; empty means <data-root>/registry")
        String root() default "";

        @AttributeDefinition(name = "auth.htpasswd.path",
                description = "htpasswd file of bcrypt entries (htpasswd -B); set, every request needs Basic auth")
        String auth_htpasswd_path() default "";

        @AttributeDefinition(name = "auth.htpasswd.realm", description = "realm of the Basic challenge")
        String auth_htpasswd_realm() default RegistryServer.Options.DEFAULT_REALM;

        @AttributeDefinition(name = "tls.certificate",
                description = "PEM certificate (chain); with tls.key, the server speaks HTTPS only")
        String tls_certificate() default "";

        @AttributeDefinition(name = "tls.key", description = "PEM private key: PKCS#8, RSA or EC")
        String tls_key() default "";
    }

    private final RegistryServer server;
    private final String url;
    private final ServiceRegistration<LocalRegistry> registration;

    @Activate
    public RegistryServerComponent(BundleContext context, Config config, Map<String, Object> properties)
            throws Exception {
        Path root = config.root().isBlank()
                ? Path.of(context.getProperty(KernelProperties.DATA_ROOT), "registry")
                : Path.of(config.root());
        RegistryServer.Options options = new RegistryServer.Options(path(config.auth_htpasswd_path()),
                config.auth_htpasswd_realm(), path(config.tls_certificate()), path(config.tls_key()));
        server = new RegistryServer(root, config.address(), config.port(), options);
        try {
            server.start();
        } catch (Exception e) {
            server.stop(); // what did start (threads) must not outlive the failed activation
            throw e;
        }
        url = (server.tls() ? "https://" : "http://") + config.address() + ":" + server.port();
        LOG.log(System.Logger.Level.INFO, "registry listening on " + url + ", storing in " + root
                + (options.htpasswd() != null ? ", users from " + options.htpasswd() : ""));
        Hashtable<String, Object> serviceProperties = new Hashtable<>();
        properties.forEach((key, value) -> {
            if (!key.startsWith("component.") && !key.equals(Constants.SERVICE_PID) && !key.startsWith("felix.")) {
                serviceProperties.put(key, value);
            }
        });
        registration = context.registerService(LocalRegistry.class, this, serviceProperties);
    }

    private static Path path(String configured) {
        return configured == null || configured.isBlank() ? null : Path.of(configured);
    }

    @Deactivate
    void stop() throws Exception {
        registration.unregister();
        server.stop();
    }

    @Override
    public String url() {
        return url;
    }

    @Override
    public Path root() {
        return server.root();
    }

    @Override
    public boolean requiresLogin() {
        return server.requiresLogin();
    }

    @Override
    public GarbageCollection collectGarbage() throws IOException {
        return server.collectGarbage(GC_SPARES_YOUNGER_THAN);
    }
}
