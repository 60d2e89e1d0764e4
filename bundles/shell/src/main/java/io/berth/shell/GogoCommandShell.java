package io.berth.shell;

import io.berth.spi.shell.CommandShell;
import io.berth.spi.shell.ShellSession;
import org.apache.felix.service.command.CommandProcessor;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@link CommandShell} on Gogo: every session is a Gogo session on the framework's command processor. */
@Component(service = CommandShell.class)
public class GogoCommandShell implements CommandShell {

    private final CommandProcessor processor;

    @Activate
    public GogoCommandShell(@Reference CommandProcessor processor) {
        this.processor = processor;
    }

    @Override
    public ShellSession openSession() {
        return new GogoShellSession(processor);
    }
}
