package io.berth.shell;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.berth.spi.containers.ContainerService;
import io.berth.spi.network.NetworkDriver;
import io.berth.spi.network.NetworkResource;
import io.berth.spi.network.NetworkService;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The network commands of scope {@code berth}: {@code network-create/ls/inspect/rm/prune}, as the docker CLI has them. */
@Command(name = "berth")
final class NetworkCli {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final NetworkService networks;
    private final ContainerService containers;

    NetworkCli(NetworkService networks, ContainerService containers) {
        this.networks = networks;
        this.containers = containers;
    }

    @Command(name = "network-connect", description = "Connect a container to a network (a stopped one at its next start)")
    void connect(@Option(names = "--alias", description = "another name on the network") List<String> aliases,
                 @Parameters(index = "0", paramLabel = "NETWORK") String network,
                 @Parameters(index = "1", paramLabel = "CONTAINER") String container) throws IOException {
        containers.connect(container, network, aliases == null ? List.of() : aliases);
    }

    @Command(name = "network-disconnect", description = "Disconnect a container from a network (a stopped one at its next start)")
    void disconnect(@Parameters(index = "0", paramLabel = "NETWORK") String network,
                    @Parameters(index = "1", paramLabel = "CONTAINER") String container) throws IOException {
        containers.disconnect(container, network);
    }

    @Command(name = "network-create", description = "Create a network")
    void create(@Option(names = {"-d", "--driver"}, defaultValue = "bridge", description = "the driver (bridge)")
                String driver,
                @Option(names = "--subnet", description = "the subnet in CIDR form") String subnet,
                @Option(names = "--gateway", description = "the gateway address in the subnet") String gateway,
                @Option(names = "--internal", description = "no way out of the network") boolean internal,
                @Option(names = "--label", description = "set a label (name=value)") List<String> labels,
                @Option(names = {"-o", "--opt"}, description = "a driver option (name=value)") List<String> options,
                @Parameters(paramLabel = "NETWORK") String name) throws IOException {
        Map<String, String> driverOptions = VolumeCli.keyValues(options, "--opt");
        if (subnet != null) {
            driverOptions.put(NetworkDriver.OPTION_SUBNET, subnet);
        }
        if (gateway != null) {
            driverOptions.put(NetworkDriver.OPTION_GATEWAY, gateway);
        }
        if (internal) {
            driverOptions.put(NetworkDriver.OPTION_INTERNAL, "true");
        }
        System.out.println(networks.create(name, driver, driverOptions, VolumeCli.keyValues(labels, "--label")).id());
    }

    @Command(name = "network-ls", description = "List networks")
    void ls(@Option(names = {"-q", "--quiet"}, description = "only ids") boolean quiet,
            @Option(names = "--no-trunc", description = "whole ids") boolean noTrunc) throws IOException {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NETWORK ID", "NAME", "DRIVER", "SCOPE", "SUBNET"});
        for (NetworkResource network : networks.list()) {
            String id = noTrunc ? network.id() : network.id().substring(0, 12);
            if (quiet) {
                System.out.println(id);
            }
            String subnet = network.ipam().config().isEmpty() ? "-" : network.ipam().config().get(0).subnet();
            rows.add(new String[] {id, network.name(), network.driver(), network.scope(), subnet});
        }
        if (!quiet) {
            System.out.print(Table.render(rows));
        }
    }

    @Command(name = "network-inspect", description = "Show networks' details as JSON")
    void inspect(@Parameters(arity = "1..*", paramLabel = "NETWORK") List<String> names) throws IOException {
        List<NetworkResource> found = new ArrayList<>();
        for (String name : names) {
            found.add(networks.inspect(name));
        }
        System.out.println(JSON.writeValueAsString(found));
    }

    @Command(name = "network-rm", description = "Remove one or more networks")
    void rm(@Parameters(arity = "1..*", paramLabel = "NETWORK") List<String> names) throws IOException {
        List<String> errors = new ArrayList<>();
        for (String name : names) {
            try {
                networks.remove(name);
                System.out.println(name);
            } catch (IOException | RuntimeException e) {
                errors.add(e.getMessage());
            }
        }
        if (!errors.isEmpty()) {
            throw new IllegalStateException(String.join("\n", errors));
        }
    }

    @Command(name = "network-prune", description = "Remove all networks no container uses")
    void prune(@Option(names = {"-f", "--force"}, description = "do not ask (the shell never asks)") boolean force)
            throws IOException {
        List<String> removed = networks.prune();
        if (!removed.isEmpty()) {
            System.out.println("Deleted Networks:");
            removed.forEach(System.out::println);
            System.out.println();
        }
    }
}
