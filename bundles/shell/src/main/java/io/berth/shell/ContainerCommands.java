package io.berth.shell;

import io.berth.spi.containers.ContainerService;
import io.berth.spi.events.Events;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/** Registers the container commands ({@link ContainerCli}) while a container service runs. */
// Immediate: the commands are services of their own and must stay registered.
@Component(service = ContainerCommands.class, immediate = true)
public class ContainerCommands {

    private final DashedCommands commands;

    @Activate
    public ContainerCommands(BundleContext context, @Reference ContainerService containers,
                             @Reference Events events) {
        commands = new DashedCommands(context);
        ShellCommands.register(commands, new ContainerCli(containers, events));
    }

    @Deactivate
    void stop() {
        commands.unregisterAll();
    }
}
