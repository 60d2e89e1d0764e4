package io.berth.shell;

import io.berth.spi.volumes.VolumeService;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/** Registers the volume commands ({@link VolumeCli}) while a volume service runs. */
// Immediate: the commands are services of their own and must stay registered.
@Component(service = VolumeCommands.class, immediate = true)
public class VolumeCommands {

    private final DashedCommands commands;

    @Activate
    public VolumeCommands(BundleContext context, @Reference VolumeService volumes) {
        commands = new DashedCommands(context);
        ShellCommands.register(commands, new VolumeCli(volumes));
    }

    @Deactivate
    void stop() {
        commands.unregisterAll();
    }
}
