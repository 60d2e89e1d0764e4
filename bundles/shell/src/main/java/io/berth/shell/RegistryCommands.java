package io.berth.shell;

import java.io.IOException;
import java.nio.file.Path;
import io.berth.spi.registry.LocalRegistry;
import java.util.Collection;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

/**
 * {@code berth:registry-start} and {@code berth:registry-stop}: the registry
 * server runs while ConfigAdmin holds configuration {@code io.berth.registry},
 * so these write and delete it, and then wait until the server runs with it
 * (its {@link LocalRegistry} service carries the new properties), says why it
 * could not (Declarative Services' failure of the component), or has stopped.
 * {@code berth:registry-gc} deletes the blobs no manifest references.
 */
// Immediate: it registers its dashed commands itself (DashedCommands).
@Component(service = RegistryCommands.class, immediate = true)
public class RegistryCommands {

    private static final String PID = LocalRegistry.PID;
    private static final String USAGE = "usage: berth:registry-start [--address A] [--port P] [--root DIR]"
            + " [--htpasswd FILE] [--realm REALM] [--tls-certificate FILE] [--tls-key FILE]";
    /** Option to configuration key; the keys are the server's (RegistryServerComponent.Config). */
    private static final Map<String, String> OPTIONS = Map.of(
            "--address", "address",
            "--port", "port",
            "--root", "root",
            "--htpasswd", "auth.htpasswd.path",
            "--realm", "auth.htpasswd.realm",
            "--tls-certificate", "tls.certificate",
            "--tls-key", "tls.key");
    private static final long WAIT_MILLIS = 20_000;

    private final BundleContext context;
    private final ConfigurationAdmin configurationAdmin;
    private final ServiceComponentRuntime scr;
    private final DashedCommands commands;

    @Activate
    public RegistryCommands(BundleContext context, @Reference ConfigurationAdmin configurationAdmin,
            @Reference ServiceComponentRuntime scr) {
        this.context = context;
        this.configurationAdmin = configurationAdmin;
        this.scr = scr;
        commands = new DashedCommands(context);
        commands.register("registry-start", arguments -> {
            start(arguments);
            return null;
        });
        commands.register("registry-stop", arguments -> {
            if (!arguments.isEmpty()) {
                throw new IllegalArgumentException("usage: berth:registry-stop");
            }
            stop();
            return null;
        });
        commands.register("registry-gc", arguments -> {
            if (!arguments.isEmpty()) {
                throw new IllegalArgumentException("usage: berth:registry-gc");
            }
            collectGarbage();
            return null;
        });
    }

    @Deactivate
    void deactivate() {
        commands.unregisterAll();
    }

    /**
     * Writes the options into the configuration (kept keys stay, new ones
     * start from address 127.0.0.1 and port 5000) and waits for the server.
     * If it cannot start, the configuration is put back as it was.
     */
    void start(List<Object> arguments) throws IOException, InvalidSyntaxException, InterruptedException {
        Map<String, Object> changes = parse(arguments);
        Configuration configuration = configurationAdmin.getConfiguration(PID, "?");
        Dictionary<String, Object> previous = configuration.getProperties();
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put("address", "127.0.0.1");
        properties.put("port", 5000);
        if (previous != null) {
            for (String key : java.util.Collections.list(previous.keys())) {
                properties.put(key, previous.get(key));
            }
        }
        properties.putAll(changes);
        properties.remove(Constants.SERVICE_PID);
        configuration.update(properties);

        Outcome outcome = awaitServer(properties);
        if (outcome == null) {
            System.out.println("configuration " + PID + " saved; no registry server bundle is installed to run it");
        } else if (outcome.failure() != null) {
            if (previous == null) {
                configuration.delete();
            } else {
                configuration.update(previous);
            }
            throw new IllegalStateException("the registry server did not start: " + outcome.failure()
                    + (previous == null ? "" : " (its configuration is back as it was)"));
        } else {
            LocalRegistry running = outcome.running();
            System.out.println("registry server listening on " + running.url()
                    + (running.requiresLogin() ? " (users from " + properties.get("auth.htpasswd.path") + ")" : "")
                    + ", storing in " + running.root());
        }
    }

    /** Deletes the configuration, which stops the server, and waits until it has stopped. */
    void stop() throws IOException, InvalidSyntaxException, InterruptedException {
        Configuration[] found = configurationAdmin.listConfigurations("(" + Constants.SERVICE_PID + "=" + PID + ")");
        if (found == null || found.length == 0) {
            System.out.println("the registry server is not configured");
            return;
        }
        found[0].delete();
        long deadline = System.nanoTime() + WAIT_MILLIS * 1_000_000;
        while (!context.getServiceReferences(LocalRegistry.class, null).isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the registry server did not stop within " + WAIT_MILLIS / 1000 + " s");
            }
            Thread.sleep(50);
        }
        System.out.println("registry server stopped");
    }

    /** Deletes the blobs no manifest references, on the running server. */
    void collectGarbage() throws IOException, InvalidSyntaxException {
        Collection<ServiceReference<LocalRegistry>> references = context.getServiceReferences(LocalRegistry.class, null);
        LocalRegistry registry = references.isEmpty() ? null : context.getService(references.iterator().next());
        if (registry == null) {
            throw new IllegalStateException("the registry server is not running (berth:registry-start starts it)");
        }
        try {
            LocalRegistry.GarbageCollection result = registry.collectGarbage();
            result.deletedBlobs().forEach(digest -> System.out.println("deleted " + digest));
            System.out.println("deleted " + result.deletedBlobs().size() + " blob(s), " + result.freedBytes()
                    + " bytes freed; blobs younger than an hour are kept for pushes still in progress");
        } finally {
            context.ungetService(references.iterator().next());
        }
    }

    private static Map<String, Object> parse(List<Object> arguments) {
        Map<String, Object> changes = new LinkedHashMap<>();
        for (int i = 0; i < arguments.size(); i++) {
            String option = String.valueOf(arguments.get(i));
            String key = OPTIONS.get(option);
            if (key == null) {
                throw new IllegalArgumentException("unknown option " + option + "; " + USAGE);
            }
            if (i + 1 >= arguments.size()) {
                throw new IllegalArgumentException(option + " needs a value; " + USAGE);
            }
            String value = String.valueOf(arguments.get(++i));
            switch (key) {
                case "port" -> changes.put(key, port(value));
                case "address", "auth.htpasswd.realm" -> changes.put(key, value);
                default -> {
                    if (!Path.of(value).isAbsolute()) {
                        throw new IllegalArgumentException(option + " needs an absolute path, not " + value);
                    }
                    changes.put(key, value);
                }
            }
        }
        return changes;
    }

    private static int port(String value) {
        try {
            int port = Integer.parseInt(value);
            if (port >= 1 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException("--port needs a TCP port from 1 to 65535, not " + value);
    }

    /** What became of a configuration: the server runs with it, or could not start with it. */
    private record Outcome(LocalRegistry running, String failure) {
    }

    /**
     * Waits until the server runs with these properties (its {@link LocalRegistry}
     * service carries them) or DS reports that it failed to start with them;
     * null when no bundle declares a component for the PID.
     */
    private Outcome awaitServer(Map<String, Object> expected) throws InterruptedException, InvalidSyntaxException {
        long deadline = System.nanoTime() + WAIT_MILLIS * 1_000_000;
        while (System.nanoTime() < deadline) {
            if (serverDescriptions().isEmpty()) {
                return null;
            }
            for (ServiceReference<LocalRegistry> reference : context.getServiceReferences(LocalRegistry.class, null)) {
                if (carries(expected, reference::getProperty)) {
                    LocalRegistry running = context.getService(reference);
                    context.ungetService(reference);
                    if (running != null) {
                        return new Outcome(running, null);
                    }
                }
            }
            for (ComponentConfigurationDTO candidate : serverConfigurations()) {
                if (candidate.state == ComponentConfigurationDTO.FAILED_ACTIVATION
                        && carries(expected, candidate.properties::get)) {
                    return new Outcome(null, reason(candidate.failure));
                }
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("the registry server did not start within " + WAIT_MILLIS / 1000 + " s");
    }

    /** True when every setting of the configuration (not ConfigAdmin's or FileInstall's own keys) has that value. */
    private static boolean carries(Map<String, Object> expected, java.util.function.Function<String, Object> actual) {
        return expected.entrySet().stream()
                .filter(e -> !e.getKey().startsWith("service.") && !e.getKey().startsWith("felix."))
                .allMatch(e -> String.valueOf(e.getValue()).equals(String.valueOf(actual.apply(e.getKey()))));
    }

    private List<ComponentDescriptionDTO> serverDescriptions() {
        return scr.getComponentDescriptionDTOs().stream()
                .filter(d -> List.of(d.configurationPid).contains(PID))
                .toList();
    }

    private List<ComponentConfigurationDTO> serverConfigurations() {
        return serverDescriptions().stream()
                .flatMap(d -> scr.getComponentConfigurationDTOs(d).stream())
                .filter(c -> c.state != ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION)
                .toList();
    }

    /**
     * What the server's constructor threw, from what DS recorded (a stack
     * trace whose first line is only the reflection wrapper's), without the
     * exception's class name.
     */
    private static String reason(String failure) {
        if (failure == null || failure.isBlank()) {
            return "no reason given";
        }
        String cause = failure.lines()
                .filter(line -> line.startsWith("Caused by: "))
                .map(line -> line.substring("Caused by: ".length()))
                .findFirst()
                .orElse(failure.lines().findFirst().orElse(failure))
                .strip();
        return cause.replaceFirst("^[\\w.$]+(Exception|Error): ", "");
    }
}
