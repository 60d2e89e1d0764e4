package io.berth.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.Map;
import java.util.Properties;
import java.util.ServiceLoader;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import sun.misc.Signal;

/**
 * berthd: claims the data-root, binds the sockets, boots Felix from the
 * distribution directory and keeps it running until SIGTERM/SIGINT (or the
 * console's {@code exit} with {@code --shell}); then stops the bundles in
 * reverse start order, releases everything it claimed and exits 0.
 */
final class Daemon {

    private static final Logger LOG = Logger.getLogger("berth.kernel");
    /** How long bundles get to stop before the kernel exits anyway. */
    private static final long STOP_TIMEOUT_MS = 60_000;

    // Framework property names shared with bundles (see io.berth.spi.kernel.KernelProperties).
    static final String PROP_VERSION = "berth.version";
    static final String PROP_DATA_ROOT = "berth.data-root";
    static final String PROP_EXEC_ROOT = "berth.exec-root";
    static final String PROP_HOME = "berth.home";
    static final String PROP_STARTED = "berth.kernel.started";
    static final String PROP_LISTENER_URI = "berth.listener.uri";
    static final String DAEMON_PID = "io.berth.daemon";

    /** Set by SIGTERM/SIGINT; the framework, once it exists, is stopped by the same signal. */
    private static volatile boolean stopRequested;
    private static volatile Framework running;

    private final Path home;
    private final DaemonConfig config;
    private final boolean interactiveShell;
    private final long startedMillis;

    private Daemon(Path home, DaemonConfig config, boolean interactiveShell, long startedMillis) {
        this.home = home;
        this.config = config;
        this.interactiveShell = interactiveShell;
        this.startedMillis = startedMillis;
    }

    static int run(String[] args) {
        long started = System.currentTimeMillis();
        handleSignals();
        // Jetty sizes its buffer pool by references per cache line; left unset, it asks the platform MBean server
        // whether oops are compressed, which loads JMX: ~150 classes and ~50 ms of the start. 16: 64-byte cache
        // lines of 4-byte (compressed) references, as on every heap berthd runs with (-Xmx below 32 GiB).
        System.getProperties().putIfAbsent("org.eclipse.jetty.util.referencesPerCacheLine", "16");
        Path home = home();
        try {
            DaemonOptions options = DaemonOptions.parse(args, home);
            if (options.help()) {
                System.out.print(DaemonOptions.HELP);
                return 0;
            }
            DaemonConfig config = DaemonConfig.load(options.configFile(), options.explicitConfigFile(),
                    options.flagSettings());
            KernelLogging.configure(config.logLevel());
            config.warnings().forEach(LOG::warning);
            return new Daemon(home, config, options.shell(), started).serve();
        } catch (UsageException e) {
            System.err.println("berthd: " + e.getMessage());
            return 1;
        } catch (IOException | BundleException | RuntimeException e) {
            System.err.println("berthd: cannot start: " + e);
            LOG.log(Level.FINE, "start failed", e);
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    /** The distribution directory: {@code -Dberth.home}, else the folder above the kernel jar's {@code lib/}. */
    static Path home() {
        String property = System.getProperty(PROP_HOME);
        if (property != null) {
            return Path.of(property).toAbsolutePath().normalize();
        }
        try {
            Path jar = Path.of(Daemon.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return jar.getParent().getParent().toAbsolutePath().normalize();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private int serve() throws IOException, UsageException, BundleException, InterruptedException {
        Path dataRoot = config.dataRoot();
        Path execRoot = config.execRoot();
        createPrivateDirectory(dataRoot, "rwx--x--x");
        createPrivateDirectory(execRoot, "rwx------");
        try (DataRootLock lock = DataRootLock.acquire(dataRoot);
             Listeners listeners = Listeners.bind(config.hosts(), config.socketGroup());
             PidFile pidFile = PidFile.write(execRoot.resolve("berthd.pid"))) {
            Framework framework = newFramework(dataRoot, execRoot);
            framework.init();
            running = framework;
            if (stopRequested) {
                return 0; // a signal came while starting: release what was claimed and leave
            }
            try {
                boot(framework, listeners, dataRoot);
            } catch (BundleException | IllegalStateException e) {
                if (!stopRequested) {
                    throw e;
                }
                // A signal stopped the framework while it was booting: that is a clean stop too.
                framework.waitForStop(STOP_TIMEOUT_MS);
                LOG.info("berth stopped while starting");
            }
        }
        return 0;
    }

    /** Installs and starts the distribution, then waits until the framework stops. */
    private void boot(Framework framework, Listeners listeners, Path dataRoot)
            throws IOException, BundleException, InterruptedException {
        BundleContext context = framework.getBundleContext();
        context.addFrameworkListener(Daemon::logFrameworkEvent);
        context.addBundleListener(new NewerBundleSupersedes(context));
        registerListeners(context, listeners);
        try (ConfigFeeder feeder = ConfigFeeder.open(context, DAEMON_PID, config.toConfigurationProperties())) {
            SystemBundles.install(context, home.resolve("system"));
            Files.createDirectories(home.resolve("deploy"));
            framework.start();
            LOG.info(() -> "berth " + kernelVersion() + " started in "
                    + (System.currentTimeMillis() - startedMillis) + " ms; data-root " + dataRoot
                    + ", listening on " + listeners.channels().keySet().stream().map(ListenAddress::uri).toList());
            FrameworkEvent stopped;
            do {
                stopped = framework.waitForStop(0);
            } while (stopped.getType() == FrameworkEvent.STOPPED_UPDATE
                    || stopped.getType() == FrameworkEvent.STOPPED_SYSTEM_REFRESHED);
            LOG.info("berth stopped");
        }
    }

    private Framework newFramework(Path dataRoot, Path execRoot) throws IOException {
        Map<String, String> properties = new HashMap<>();
        properties.put(PROP_VERSION, kernelVersion());
        properties.put(PROP_HOME, home.toString());
        properties.put(PROP_DATA_ROOT, dataRoot.toString());
        properties.put(PROP_EXEC_ROOT, execRoot.toString());
        properties.put(PROP_STARTED, Long.toString(startedMillis));
        properties.putAll(FrameworkProperties.load(home.resolve("conf").resolve("config.properties"), properties));
        // What the kernel owns is not the distribution's to change.
        properties.put("org.osgi.framework.storage", execRoot.resolve("bundle-cache").toString());
        properties.put("org.osgi.framework.storage.clean", "onFirstInit");
        properties.put("org.osgi.framework.system.packages.extra", kernelResource().getProperty("kernel.exports"));
        // The framework rises to the highest level in system/ when it starts.
        properties.put("org.osgi.framework.startlevel.beginning",
                Integer.toString(SystemBundles.highestLevel(home.resolve("system"))));
        properties.put("gosh.args", interactiveShell ? "" : "--nointeractive --noshutdown");
        properties.putIfAbsent("gosh.home", home.toString());
        FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class).findFirst()
                .orElseThrow(() -> new IllegalStateException("no OSGi framework on the kernel's class path"));
        return factory.newFramework(properties);
    }

    private static void registerListeners(BundleContext context, Listeners listeners) {
        for (Map.Entry<ListenAddress, ServerSocketChannel> entry : listeners.channels().entrySet()) {
            Hashtable<String, Object> properties = new Hashtable<>();
            properties.put(PROP_LISTENER_URI, entry.getKey().uri());
            // Registered for the daemon's lifetime; the framework unregisters it when it stops.
            context.registerService(ServerSocketChannel.class, entry.getValue(), properties);
        }
    }

    /**
     * SIGTERM and SIGINT stop the framework (bundles stop in reverse start
     * order) and the daemon then exits 0; a signal that comes before the
     * framework exists makes the start give up cleanly. Installed first thing,
     * so no signal finds the JVM's default handler (exit 143) once berthd runs.
     */
    private static void handleSignals() {
        Runnable stop = () -> {
            stopRequested = true;
            Framework framework = running;
            if (framework != null) {
                try {
                    LOG.info("stopping: bundles stop in reverse start order");
                    framework.stop();
                } catch (BundleException e) {
                    LOG.log(Level.WARNING, "framework stop failed", e);
                }
            }
        };
        Signal.handle(new Signal("TERM"), signal -> stop.run());
        Signal.handle(new Signal("INT"), signal -> stop.run());
        // Other ways out (SIGHUP, System.exit elsewhere) still stop the bundles, within a limit.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            Framework framework = running;
            if (framework != null && (framework.getState() & (org.osgi.framework.Bundle.ACTIVE
                    | org.osgi.framework.Bundle.STARTING)) != 0) {
                stop.run();
                try {
                    framework.waitForStop(STOP_TIMEOUT_MS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }, "berth-shutdown"));
    }

    private static void logFrameworkEvent(FrameworkEvent event) {
        String bundle = event.getBundle() == null ? "framework" : event.getBundle().getSymbolicName();
        switch (event.getType()) {
            case FrameworkEvent.ERROR -> LOG.log(Level.SEVERE, bundle + ": " + message(event), event.getThrowable());
            case FrameworkEvent.WARNING -> LOG.log(Level.WARNING, bundle + ": " + message(event), event.getThrowable());
            default -> {
            }
        }
    }

    private static String message(FrameworkEvent event) {
        return event.getThrowable() == null ? "" : String.valueOf(event.getThrowable().getMessage());
    }

    private static void createPrivateDirectory(Path dir, String permissions) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(permissions));
        }
    }

    static String kernelVersion() {
        return kernelResource().getProperty("berth.version", "unknown");
    }

    private static Properties kernelResource() {
        Properties properties = new Properties();
        try (InputStream in = Daemon.class.getResourceAsStream("kernel.properties")) {
            properties.load(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return properties;
    }
}
