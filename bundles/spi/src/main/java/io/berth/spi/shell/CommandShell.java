package io.berth.spi.shell;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The management shell (Gogo commands, scope {@code berth} and the framework's
 * own) offered as a service. Front doors such as the Engine API use it to run
 * an operator's command remotely without depending on the shell's
 * implementation.
 */
@ProviderType
public interface CommandShell {

    /** Opens a session; variables set in it last until it is closed. */
    ShellSession openSession();
}
