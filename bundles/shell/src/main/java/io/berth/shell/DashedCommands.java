package io.berth.shell;

import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import org.apache.felix.service.command.Function;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

/**
 * Commands in scope {@code berth} registered as Gogo {@link Function}s of their own: Gogo maps a command name to
 * a method of the same name, and Java method names cannot hold a dash ({@code storage-use}) or be a keyword
 * ({@code import}). The component that owns them must be immediate, so they stay registered, and must
 * {@link #unregisterAll} when it is deactivated.
 */
final class DashedCommands {

    /** A command's body: the arguments as Gogo parsed them. */
    interface Command {
        Object run(List<Object> arguments) throws Exception;
    }

    private final BundleContext context;
    private final List<ServiceRegistration<Function>> registrations = new ArrayList<>();

    DashedCommands(BundleContext context) {
        this.context = context;
    }

    void register(String name, Command command) {
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put("osgi.command.scope", "berth");
        properties.put("osgi.command.function", name);
        Function function = (session, arguments) -> command.run(arguments);
        registrations.add(context.registerService(Function.class, function, properties));
    }

    void unregisterAll() {
        registrations.forEach(ServiceRegistration::unregister);
        registrations.clear();
    }

    /** The one argument a command takes, or a usage error. */
    static String single(List<Object> arguments, String usage) {
        if (arguments.size() != 1) {
            throw new IllegalArgumentException("usage: berth:" + usage);
        }
        return String.valueOf(arguments.get(0));
    }
}
