package io.berth.shell;

import io.berth.spi.containers.ContainerService;
import io.berth.spi.network.NetworkService;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/** Registers the network commands ({@link NetworkCli}) while the network and container services run. */
// Immediate: the commands are services of their own and must stay registered.
@Component(service = NetworkCommands.class, immediate = true)
public class NetworkCommands {

    private final DashedCommands commands;

    @Activate
    public NetworkCommands(BundleContext context, @Reference NetworkService networks,
                           @Reference ContainerService containers) {
        commands = new DashedCommands(context);
        ShellCommands.register(commands, new NetworkCli(networks, containers));
    }

    @Deactivate
    void stop() {
        commands.unregisterAll();
    }
}
