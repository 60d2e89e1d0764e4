package io.berth.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import io.berth.spi.driver.Driver;
import io.berth.spi.driver.DriverStatus;
import io.berth.spi.shell.CommandShell;
import io.berth.spi.shell.ShellSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import javax.inject.Inject;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Boots Felix with exactly the bundles of the built {@code berth}
 * distribution, in one framework for the whole class, and checks what the
 * kernel cannot: every bundle starts, the berth commands answer, FileInstall
 * hot-deploys, and the Engine API serves a socket it does not own — and
 * leaves it open when it stops.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class BerthBundlesIT {

    private static final String HOT_BUNDLE = "io.berth.itests.hotdeploy";
    /** devicemapper's row: unsupported with the reason where the kernel has no device-mapper, else unconfigured. */
    static final String DEVICEMAPPER_ROW = "storage\\s+devicemapper\\s+\\S+\\s+(UNSUPPORTED\\s+device-mapper is not "
            + "available in this kernel \\(.+\\)|UNCONFIGURED\\s+no thin pool configured.*)";

    @Inject
    private BundleContext context;

    @Inject
    private CommandProcessor commands;

    @Inject
    private CommandShell shell;

    @Configuration
    public Option[] configuration() throws IOException {
        Path distribution = DistributionBundles.distribution();
        List<Option> options = DistributionBundles.frameworkLike(distribution, Files.createTempDirectory("berth-itest-"));
        return options.toArray(new Option[0]);
    }

    @Test
    public void everyBundleOfTheDistributionIsActive() {
        List<String> notActive = Arrays.stream(context.getBundles())
                .filter(bundle -> bundle.getHeaders("").get(Constants.FRAGMENT_HOST) == null)
                .filter(bundle -> bundle.getState() != Bundle.ACTIVE)
                .map(bundle -> bundle.getSymbolicName() + " " + bundle.getVersion() + " state " + bundle.getState())
                .collect(Collectors.toList());
        assertTrue("bundles not active: " + notActive, notActive.isEmpty());
        for (String subsystem : List.of("io.berth.spi", "io.berth.shell", "io.berth.engine-api", "io.berth.storage-vfs",
                "io.berth.storage-overlayfs", "io.berth.storage-btrfs", "io.berth.storage-devicemapper", "io.berth.images",
                "io.berth.registry-server", "io.berth.registry-client")) {
            assertTrue(subsystem + " is installed", Arrays.stream(context.getBundles())
                    .anyMatch(bundle -> subsystem.equals(bundle.getSymbolicName())));
        }
    }

    @Test
    public void berthCommandsAreRegisteredAndAnswer() throws Exception {
        for (String function : List.of("info", "drivers")) {
            ServiceReference<?>[] refs = context.getServiceReferences((String) null,
                    "(&(osgi.command.scope=berth)(osgi.command.function=" + function + "))");
            assertNotNull("berth:" + function + " is registered", refs);
        }
        String info = gogo("berth:info");
        assertTrue(info, info.startsWith("berth itest\n"));
        for (String subsystem : List.of("io.berth.spi", "io.berth.shell", "io.berth.engine-api", "io.berth.storage-vfs",
                "io.berth.storage-overlayfs", "io.berth.storage-btrfs", "io.berth.storage-devicemapper", "io.berth.images",
                "io.berth.registry-server", "io.berth.registry-client")) {
            String row = info.lines().filter(line -> line.endsWith(" " + subsystem)).findFirst()
                    .orElseThrow(() -> new AssertionError(subsystem + " missing from berth:info:\n" + info));
            assertTrue(row, row.contains("Active"));
        }
        String drivers = gogo("berth:drivers");
        assertTrue(drivers, drivers.lines().anyMatch(line -> line.matches("storage\\s+vfs\\s+\\S+\\s+ACTIVE.*")));
    }

    @Test
    public void berthDriversShowsEveryOutcomeOfADriver() throws Exception {
        // Unsupported: a registered driver that says why it cannot work here.
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(Driver.TYPE, "storage");
        properties.put(Driver.NAME, "itest-unsupported");
        ServiceRegistration<Driver> unsupported = context.registerService(Driver.class,
                () -> DriverStatus.unsupported("no itest filesystem at data-root"), properties);
        // Unconfigured and failed: driver components that never register a service.
        Path root = Path.of(System.getProperty("berth.itest.root"));
        Path jar = root.resolve("driver-components.jar");
        TestBundles.write(jar, "io.berth.itests.drivercomponents", "1.0.0", Map.of(
                "Service-Component", "OSGI-INF/*.xml",
                "OSGI-INF/unconfigured.xml", component("itest-unconfigured", "require", "itest.NeverLoaded"),
                "OSGI-INF/failing.xml", component("itest-failing", "optional", "java.lang.Void")));
        Bundle components = context.installBundle(jar.toUri().toString());
        try {
            components.start();
            String drivers = Await.until("berth:drivers to show the failing component", () -> gogoUnchecked("berth:drivers"),
                    text -> text.contains("itest-failing"), () -> gogoUnchecked("berth:drivers"));
            assertRow(drivers, "storage\\s+itest-unsupported\\s+\\S+\\s+UNSUPPORTED\\s+no itest filesystem at data-root");
            assertRow(drivers, "storage\\s+itest-unconfigured\\s+1\\.0\\.0\\s+UNCONFIGURED\\s+needs configuration itest-unconfigured");
            assertRow(drivers, "storage\\s+itest-failing\\s+1\\.0\\.0\\s+FAILED\\s+.+");
            assertRow(drivers, "storage\\s+vfs\\s+\\S+\\s+ACTIVE");
            // a real driver that cannot work on a host without device-mapper (these machines), or is off
            assertRow(drivers, DEVICEMAPPER_ROW);
        } finally {
            components.uninstall();
            unsupported.unregister();
        }
    }

    private static String component(String name, String configurationPolicy, String implementation) {
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<scr:component xmlns:scr=\"http://www.osgi.org/xmlns/scr/v1.4.0\" name=\"" + name + "\""
                + " immediate=\"true\" configuration-policy=\"" + configurationPolicy + "\">\n"
                + "  <implementation class=\"" + implementation + "\"/>\n"
                + "  <property name=\"berth.driver.type\" value=\"storage\"/>\n"
                + "  <property name=\"berth.driver.name\" value=\"" + name + "\"/>\n"
                + "</scr:component>\n";
    }

    private static void assertRow(String table, String regex) {
        assertTrue("no row matching " + regex + " in:\n" + table, table.lines().anyMatch(line -> line.matches(regex)));
    }

    private String gogoUnchecked(String command) {
        try {
            return gogo(command);
        } catch (Exception e) {
            return e.toString();
        }
    }

    @Test
    public void theRegistryServerRunsOnlyWhileConfigured() throws Exception {
        int port;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        java.net.URI catalog = java.net.URI.create("http://127.0.0.1:" + port + "/v2/_catalog");
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        ConfigurationAdmin admin = context.getService(context.getServiceReference(ConfigurationAdmin.class));
        org.osgi.service.cm.Configuration configuration = admin.getConfiguration("io.berth.registry", "?");
        Hashtable<String, Object> settings = new Hashtable<>();
        settings.put("address", "127.0.0.1");
        settings.put("port", port);
        configuration.update(settings);
        String body = Await.until("the registry to answer " + catalog, () -> get(http, catalog),
                answer -> answer.startsWith("200 "), () -> get(http, catalog));
        assertEquals("200 {\"repositories\":[]}", body.trim());
        configuration.delete();
        Await.until("the registry to stop", () -> get(http, catalog), answer -> answer.startsWith("refused"),
                () -> get(http, catalog));
    }

    private static String get(java.net.http.HttpClient http, java.net.URI uri) {
        try {
            java.net.http.HttpResponse<String> response = http.send(java.net.http.HttpRequest.newBuilder(uri)
                    .timeout(java.time.Duration.ofSeconds(5)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            return response.statusCode() + " " + response.body();
        } catch (java.net.ConnectException e) {
            return "refused";
        } catch (IOException e) {
            return e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return e.toString();
        }
    }

    @Test
    public void commandShellServiceRunsCommandsAndReportsFailures() {
        try (ShellSession session = shell.openSession()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            assertEquals(0, session.execute("berth:drivers", out, err));
            assertTrue(out.toString(StandardCharsets.UTF_8), out.toString(StandardCharsets.UTF_8).contains("vfs"));

            out.reset();
            assertEquals(1, session.execute("no-such-command", out, err));
            assertTrue(err.toString(StandardCharsets.UTF_8),
                    err.toString(StandardCharsets.UTF_8).contains("no-such-command"));

            assertEquals(0, session.execute("greeting = hello", out, err));
            out.reset();
            assertEquals(0, session.execute("echo $greeting", out, err));
            assertEquals("hello", out.toString(StandardCharsets.UTF_8).trim());
            assertTrue(session.complete("berth:dr", 8).contains("berth:drivers"));
        }
    }

    @Test
    public void fileInstallInstallsUpdatesAndUninstallsADroppedBundle() throws Exception {
        Path jar = Path.of(System.getProperty("berth.itest.root"), "deploy", "hotdeploy.jar");
        TestBundles.write(jar, HOT_BUNDLE, "1.0.0");
        Bundle installed = Await.until("the dropped bundle to start", this::hotBundle,
                bundle -> bundle != null && bundle.getState() == Bundle.ACTIVE, this::hotBundleState);
        long id = installed.getBundleId();

        TestBundles.write(jar, HOT_BUNDLE, "2.0.0");
        Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 2000));
        Bundle updated = Await.until("the replaced bundle to be updated in place", this::hotBundle,
                bundle -> bundle != null && bundle.getVersion().getMajor() == 2 && bundle.getState() == Bundle.ACTIVE,
                this::hotBundleState);
        assertEquals("updated in place, same bundle id", id, updated.getBundleId());

        Files.delete(jar);
        Await.until("the deleted bundle to be uninstalled", this::hotBundle, bundle -> bundle == null,
                this::hotBundleState);
    }

    @Test
    public void engineApiServesAKernelSocketAndLeavesItOpenWhenStopped() throws Exception {
        Path socket = Path.of(System.getProperty("berth.itest.root"), "api.sock");
        try (ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.bind(UnixDomainSocketAddress.of(socket), 64);
            Hashtable<String, Object> properties = new Hashtable<>();
            properties.put("berth.listener.uri", "unix://" + socket);
            ServiceRegistration<ServerSocketChannel> registration =
                    context.registerService(ServerSocketChannel.class, channel, properties);
            try {
                assertTrue(Await.until("the API to answer /_ping", () -> UnixHttp.tryGet(socket, "/_ping"),
                        response -> response.startsWith("HTTP/1.1 200"), () -> "no answer").endsWith("OK"));

                Bundle api = Arrays.stream(context.getBundles())
                        .filter(bundle -> "io.berth.engine-api".equals(bundle.getSymbolicName())).findFirst()
                        .orElseThrow();
                api.stop();
                assertTrue("the kernel's socket stays open while the API bundle is stopped", channel.isOpen());
                // A client that connects now waits in the backlog...
                try (SocketChannel waiting = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                    UnixHttp.sendGet(waiting, "/_ping");
                    api.start();
                    // ...and is answered by the restarted bundle.
                    String response = UnixHttp.readAll(waiting);
                    assertTrue(response, response.startsWith("HTTP/1.1 200") && response.endsWith("OK"));
                }
            } finally {
                registration.unregister();
            }
        }
    }

    private Bundle hotBundle() {
        return Arrays.stream(context.getBundles()).filter(bundle -> HOT_BUNDLE.equals(bundle.getSymbolicName()))
                .findFirst().orElse(null);
    }

    private String hotBundleState() {
        Bundle bundle = hotBundle();
        return bundle == null ? "not installed"
                : "id " + bundle.getBundleId() + " version " + bundle.getVersion() + " state " + bundle.getState();
    }

    private String gogo(String command) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
        CommandSession session = commands.createSession(InputStream.nullInputStream(), print, print);
        try {
            session.execute(command);
        } finally {
            session.close();
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
