package io.berth.registry.server;

import io.berth.spi.kernel.KernelProperties;
import java.nio.file.Path;
import org.osgi.framework.BundleContext;
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
 */
@Component(immediate = true, service = {}, configurationPid = RegistryServerComponent.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = RegistryServerComponent.Config.class)
public class RegistryServerComponent {

    public static final String PID = "io.berth.registry";
    private static final System.Logger LOG = System.getLogger("berth.registry");

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

    @Activate
    public RegistryServerComponent(BundleContext context, Config config) throws Exception {
        Path root = config.root().isBlank()
                ? Path.of(context.getProperty(KernelProperties.DATA_ROOT), "registry")
                : Path.of(config.root());
        RegistryServer.Options options = new RegistryServer.Options(path(config.auth_htpasswd_path()),
                config.auth_htpasswd_realm(), path(config.tls_certificate()), path(config.tls_key()));
        server = new RegistryServer(root, config.address(), config.port(), options);
        server.start();
        LOG.log(System.Logger.Level.INFO, "registry listening on " + (server.tls() ? "https://" : "http://")
                + config.address() + ":" + server.port() + ", storing in " + root
                + (options.htpasswd() != null ? ", users from " + options.htpasswd() : ""));
    }

    private static Path path(String configured) {
        return configured == null || configured.isBlank() ? null : Path.of(configured);
    }

    @Deactivate
    void stop() throws Exception {
        server.stop();
    }

    /** Deletes the blobs no manifest references (for the shell command to come). */
    public RegistryStorage.GarbageCollection collectGarbage() throws Exception {
        return server.collectGarbage();
    }
}
