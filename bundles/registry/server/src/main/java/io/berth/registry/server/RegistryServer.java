package io.berth.registry.server;

import io.berth.spi.registry.LocalRegistry.GarbageCollection;
import java.io.IOException;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * An OCI distribution registry on its own Jetty server and TCP address,
 * storing under {@code root}; optionally with HTTP Basic authentication
 * against an htpasswd file and TLS from PEM files (see {@link Options}).
 */
public final class RegistryServer {

    /**
     * What docker-registry calls {@code auth.htpasswd} ({@code htpasswd} file and
     * {@code realm}) and {@code http.tls} ({@code tlsCertificate} and {@code tlsKey},
     * PEM files). A null file means that feature is off.
     */
    public record Options(Path htpasswd, String realm, Path tlsCertificate, Path tlsKey) {
        public static final Options NONE = new Options(null, null, null, null);
        public static final String DEFAULT_REALM = "berth registry";
    }

    private final RegistryStorage storage;
    private final Server server;
    private final ServerConnector connector;
    private final boolean tls;
    private final boolean requiresLogin;

    public RegistryServer(Path root, String address, int port) throws IOException {
        this(root, address, port, Options.NONE);
    }

    /** Reads the htpasswd and PEM files now, so that a bad one stops the server from being made at all. */
    public RegistryServer(Path root, String address, int port, Options options) throws IOException {
        if ((options.tlsCertificate() == null) != (options.tlsKey() == null)) {
            throw new IOException("TLS needs both a certificate and a key; only the "
                    + (options.tlsCertificate() == null ? "key" : "certificate") + " is configured");
        }
        Htpasswd users = options.htpasswd() == null ? null : Htpasswd.read(options.htpasswd());
        KeyStore keys = options.tlsCertificate() == null ? null
                : PemKeyStore.load(options.tlsCertificate(), options.tlsKey());
        requiresLogin = users != null;
        storage = new RegistryStorage(root);
        QueuedThreadPool threads = new QueuedThreadPool(64, 2);
        threads.setName("berth-registry");
        server = new Server(threads);
        HttpConfiguration config = new HttpConfiguration();
        config.setSendServerVersion(false);
        config.setSendXPoweredBy(false);
        tls = keys != null;
        if (tls) {
            SslContextFactory.Server ssl = new SslContextFactory.Server();
            ssl.setKeyStore(keys);
            ssl.setKeyStorePassword(new String(PemKeyStore.PASSWORD));
            ssl.setKeyManagerPassword(new String(PemKeyStore.PASSWORD));
            SecureRequestCustomizer secure = new SecureRequestCustomizer();
            // clients reach a registry by IP address as often as by name; the certificate decides, not Jetty
            secure.setSniHostCheck(false);
            config.addCustomizer(secure);
            connector = new ServerConnector(server, new SslConnectionFactory(ssl, HttpVersion.HTTP_1_1.asString()),
                    new HttpConnectionFactory(config));
        } else {
            connector = new ServerConnector(server, new HttpConnectionFactory(config));
        }
        connector.setHost(address);
        connector.setPort(port);
        server.addConnector(connector);
        String realm = options.realm() == null || options.realm().isBlank() ? Options.DEFAULT_REALM : options.realm();
        server.setHandler(new RegistryHandler(storage, users, realm));
    }

    public void start() throws Exception {
        server.start();
    }

    public void stop() throws Exception {
        server.stop();
    }

    /** The port listened on (the ephemeral one when configured with 0). */
    public int port() {
        return connector.getLocalPort();
    }

    /** True when the server speaks HTTPS. */
    public boolean tls() {
        return tls;
    }

    /** True when every request needs the credentials of a user of the htpasswd file. */
    public boolean requiresLogin() {
        return requiresLogin;
    }

    public Path root() {
        return storage.root();
    }

    /** Deletes every blob no manifest references; returns the deleted digests and the bytes freed. */
    public GarbageCollection collectGarbage() throws IOException {
        return storage.collectGarbage();
    }

    /** As {@link #collectGarbage()}, sparing blobs younger than {@code minAge} (pushes in progress). */
    public GarbageCollection collectGarbage(Duration minAge) throws IOException {
        return storage.collectGarbage(minAge);
    }
}
