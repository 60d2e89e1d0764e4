package io.berth.shell;

import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import org.apache.felix.service.command.Function;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

/**
 * Gogo commands whose names hold a dash ({@code storage-use},
 * {@code registry-start}): Gogo maps a command name to a method of the same
 * name and Java method names cannot hold the dash, so each is registered as
 * a Gogo {@link Function} of its own, in scope {@code berth}. The component
 * that owns them must be immediate, or they come and go with its other commands.
 */
final class DashedCommands {

    interface Command {
        Object run(List<Object> arguments) throws Exception;
    }

    private final BundleContext context;
    private final List<ServiceRegistration<Function>> registrations = new ArrayList<>();

    DashedCommands(BundleContext context) {
        this.context = context;
    }

    void add(String name, Command command) {
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put("osgi.command.scope", "berth");
        properties.put("osgi.command.function", name);
        Function function = (session, arguments) -> command.run(arguments);
        registrations.add(context.registerService(Function.class, function, properties));
    }

    void removeAll() {
        registrations.forEach(ServiceRegistration::unregister);
        registrations.clear();
    }
}
