package io.berth.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotSame;
import static org.junit.Assert.assertTrue;

import io.berth.spi.driver.Driver;
import io.berth.spi.network.Network;
import io.berth.spi.network.NetworkDriver;
import io.berth.spi.shell.CommandShell;
import io.berth.spi.shell.ShellSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import javax.inject.Inject;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

/**
 * The network driver bundles of the {@code berth} distribution inside Felix:
 * none, host and bridge register as network drivers, {@code berth:drivers}
 * and {@code berth:network-ls} show them, and an update of the bridge bundle
 * gives a new driver instance that keeps the networks and the Linux bridge
 * as they were (same interfaces). The bridge driver's default network is on
 * {@code bnet0} (table {@code ip berth_bnet0}), never a daemon's {@code berth0};
 * both are removed at the end.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class NetworkDriversIT {

    private static final String BRIDGE = "bnet0";

    @Inject
    private BundleContext context;

    @Inject
    private CommandShell shell;

    @Configuration
    public Option[] configuration() throws IOException {
        Path distribution = DistributionBundles.distribution();
        List<Option> options = DistributionBundles.frameworkLike(distribution,
                Files.createTempDirectory("berth-itest-network-"), BRIDGE);
        return options.toArray(new Option[0]);
    }

    /**
     * One test, so the host state is removed once at its end: Pax Exam runs
     * {@code @AfterClass} after every test method.
     */
    @Test
    public void networkDriversRegisterAndTheBridgeSurvivesAnUpdateOfItsBundle() throws Exception {
        try {
            noneHostAndBridgeRegisterAndNetworkLsListsTheirNetworks();
            anUpdatedBridgeBundleKeepsTheNetworksAndTheirBridges();
        } finally {
            // the bridge driver leaves its bridge and table for the next daemon; a test run must not
            bundle("io.berth.network-bridge").stop();
            Commands.run("ip", "link", "delete", "dev", BRIDGE);
            Commands.run("nft", "delete", "table", "ip", "berth_" + BRIDGE);
        }
    }

    private void noneHostAndBridgeRegisterAndNetworkLsListsTheirNetworks() throws Exception {
        for (String name : List.of("none", "host", "bridge")) {
            Await.until("network driver " + name, () -> driver(name), driver -> driver != null, () -> "not registered");
        }
        String drivers = gogo("berth:drivers");
        for (String name : List.of("none", "host", "bridge")) {
            assertRow(drivers, "network\\s+" + name + "\\s+\\S+\\s+ACTIVE.*");
        }
        String networks = gogo("berth:network-ls");
        assertRow(networks, "NETWORK ID\\s+NAME\\s+DRIVER\\s+SCOPE\\s+SUBNET");
        assertRow(networks, "[0-9a-f]{12}\\s+bridge\\s+bridge\\s+local\\s+\\d+\\.\\d+\\.\\d+\\.\\d+/\\d+");
        assertRow(networks, "[0-9a-f]{12}\\s+host\\s+host\\s+local\\s+-");
        assertRow(networks, "[0-9a-f]{12}\\s+none\\s+none\\s+local\\s+-");
    }

    private void anUpdatedBridgeBundleKeepsTheNetworksAndTheirBridges() throws Exception {
        NetworkDriver before = Await.until("the bridge driver", () -> driver("bridge"), d -> d != null, () -> "not registered");
        Network user = before.createNetwork("itest-net", Map.of(NetworkDriver.OPTION_SUBNET, "172.29.200.0/24"));
        List<Network> networks = before.networks();
        String links = Commands.run("ip", "-o", "link", "show", "dev", user.hostInterface()).stdout()
                + Commands.run("ip", "-o", "link", "show", "dev", BRIDGE).stdout();

        bundle("io.berth.network-bridge").update();
        NetworkDriver after = Await.until("a new bridge driver instance", () -> driver("bridge"),
                d -> d != null && d != before, () -> "not registered");

        assertNotSame(before, after);
        assertTrue(after.status().toString(), after.status().isActive());
        assertEquals(networks, after.networks());
        assertEquals("the same links, not new ones", links,
                Commands.run("ip", "-o", "link", "show", "dev", user.hostInterface()).stdout()
                        + Commands.run("ip", "-o", "link", "show", "dev", BRIDGE).stdout());
        after.deleteNetwork("itest-net");
        assertTrue(Commands.run("ip", "-o", "link", "show", "dev", user.hostInterface()).exitCode() != 0);
    }

    private Bundle bundle(String symbolicName) {
        return Arrays.stream(context.getBundles()).filter(b -> symbolicName.equals(b.getSymbolicName())).findFirst()
                .orElseThrow(() -> new AssertionError(symbolicName + " is not installed"));
    }

    private NetworkDriver driver(String name) {
        try {
            Collection<ServiceReference<NetworkDriver>> refs = context.getServiceReferences(NetworkDriver.class,
                    "(&(" + Driver.TYPE + "=network)(" + Driver.NAME + "=" + name + "))");
            return refs.isEmpty() ? null : context.getService(refs.iterator().next());
        } catch (InvalidSyntaxException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private String gogo(String command) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ShellSession session = shell.openSession()) {
            int status = session.execute(command, out, out);
            String text = out.toString(StandardCharsets.UTF_8);
            assertEquals(command + ": " + text, 0, status);
            return text;
        }
    }

    private static void assertRow(String text, String regex) {
        assertTrue("no line matches " + regex + " in:\n" + text, text.lines().anyMatch(line -> line.matches(regex)));
    }
}
