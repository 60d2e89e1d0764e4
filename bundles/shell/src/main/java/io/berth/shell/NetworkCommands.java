package io.berth.shell;

import io.berth.spi.driver.Driver;
import io.berth.spi.network.Network;
import io.berth.spi.network.NetworkDriver;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * Gogo commands in scope {@code berth} for networks; so far the read-only
 * {@code network-ls} (a {@link DashedCommands dashed} name). It asks every
 * network driver in the registry at the moment it runs, so drivers may come
 * and go.
 */
// Immediate: the dashed commands must stay registered.
@Component(service = NetworkCommands.class, immediate = true)
public class NetworkCommands {

    private final BundleContext context;
    private final DashedCommands dashedCommands;

    @Activate
    public NetworkCommands(BundleContext context) {
        this.context = context;
        this.dashedCommands = new DashedCommands(context);
        dashedCommands.register("network-ls", arguments -> {
            if (!arguments.isEmpty()) {
                throw new IllegalArgumentException("usage: berth:network-ls");
            }
            System.out.print(networkLs());
            return null;
        });
    }

    @Deactivate
    void stop() {
        dashedCommands.unregisterAll();
    }

    /** Every driver's networks, by name: docker network ls with the subnet, gateway and host interface. */
    String networkLs() throws InvalidSyntaxException {
        List<Network> networks = new ArrayList<>();
        for (ServiceReference<NetworkDriver> reference : context.getServiceReferences(NetworkDriver.class, null)) {
            NetworkDriver driver = context.getService(reference);
            if (driver == null) {
                continue;
            }
            try {
                networks.addAll(driver.networks());
            } catch (RuntimeException e) {
                System.err.println("network driver " + reference.getProperty(Driver.NAME) + ": " + e.getMessage());
            } finally {
                context.ungetService(reference);
            }
        }
        networks.sort(Comparator.comparing(Network::networkId));
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "DRIVER", "SUBNET", "GATEWAY", "INTERNAL", "INTERFACE"});
        for (Network network : networks) {
            rows.add(new String[] {network.networkId(), network.driver(), dash(network.subnet()), dash(network.gateway()),
                    Boolean.toString(network.internal()), dash(network.hostInterface())});
        }
        return Table.render(rows);
    }

    private static String dash(String text) {
        return text.isEmpty() ? "-" : text;
    }
}
