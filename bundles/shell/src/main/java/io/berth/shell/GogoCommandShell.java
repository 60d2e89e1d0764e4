package io.berth.shell;

import io.berth.shell.NameCompletion.Kind;
import io.berth.spi.containers.Container;
import io.berth.spi.containers.ContainerService;
import io.berth.spi.images.Image;
import io.berth.spi.images.ImageStore;
import io.berth.spi.network.NetworkResource;
import io.berth.spi.network.NetworkService;
import io.berth.spi.shell.CommandShell;
import io.berth.spi.shell.ShellSession;
import io.berth.spi.volumes.Volume;
import io.berth.spi.volumes.VolumeService;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.felix.service.command.CommandProcessor;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * {@link CommandShell} on Gogo: every session is a Gogo session on the framework's command processor. Sessions
 * complete names from the engine's services, whichever of them run at the time. The {@code berthd --shell}
 * console (gogo.jline, which completes by the {@code complete} definitions of its profile, etc/gosh_profile) gets
 * the same names from {@code berth:complete-names LINE}. Immediate, so that the command stays registered.
 */
@Component(service = CommandShell.class, immediate = true)
public class GogoCommandShell implements CommandShell {

    private final CommandProcessor processor;
    private final DashedCommands consoleCommands;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile ContainerService containers;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile ImageStore images;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile NetworkService networks;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile VolumeService volumes;

    @Activate
    public GogoCommandShell(@Reference CommandProcessor processor, BundleContext context) {
        this.processor = processor;
        consoleCommands = new DashedCommands(context);
        consoleCommands.register("complete-names", arguments ->
                NameCompletion.candidates(arguments.isEmpty() ? "" : String.valueOf(arguments.get(0)), this::names));
    }

    @Deactivate
    void stop() {
        consoleCommands.unregisterAll();
    }

    @Override
    public ShellSession openSession() {
        return new GogoShellSession(processor, this::names);
    }

    /** Container names (as docker shows them, no slash), image names, network and volume names; ids are not offered. */
    private List<String> names(Kind kind) {
        List<String> names = new ArrayList<>();
        try {
            switch (kind) {
                case CONTAINER -> {
                    ContainerService service = containers;
                    if (service != null) {
                        for (Container c : service.list(true)) {
                            names.add(c.name().startsWith("/") ? c.name().substring(1) : c.name());
                        }
                    }
                }
                case IMAGE -> {
                    ImageStore service = images;
                    if (service != null) {
                        for (Image image : service.list()) {
                            names.addAll(image.repoTags());
                        }
                    }
                }
                case NETWORK -> {
                    NetworkService service = networks;
                    if (service != null) {
                        service.list().stream().map(NetworkResource::name).forEach(names::add);
                    }
                }
                case VOLUME -> {
                    VolumeService service = volumes;
                    if (service != null) {
                        service.list().stream().map(Volume::name).forEach(names::add);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // no candidates: completion must not fail the console
        }
        return names;
    }
}
