package io.berth.shell;

import io.berth.spi.driver.Driver;
import io.berth.spi.driver.DriverStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.component.runtime.dto.UnsatisfiedReferenceDTO;

/**
 * Every driver the daemon knows of, with its status. A registered driver
 * reports its own status; a driver component that is not registered at all
 * (waiting for configuration, missing a dependency, failed to activate) is
 * found through SCR, so no driver is ever just missing from the list.
 */
record DriverTable(List<Row> rows) {

    record Row(String type, String name, String version, String state, String reason) {
    }

    static DriverTable collect(BundleContext context, ServiceComponentRuntime scr) throws InvalidSyntaxException {
        List<Row> rows = new ArrayList<>();
        Set<String> registered = new HashSet<>();
        ServiceReference<?>[] refs = context.getAllServiceReferences(null, "(" + Driver.TYPE + "=*)");
        for (ServiceReference<?> ref : refs == null ? new ServiceReference<?>[0] : refs) {
            String type = String.valueOf(ref.getProperty(Driver.TYPE));
            String name = String.valueOf(ref.getProperty(Driver.NAME));
            if (!registered.add(type + "/" + name)) {
                continue; // one service may be registered under several interfaces
            }
            rows.add(fromService(context, ref, type, name));
        }
        for (ComponentDescriptionDTO description : scr.getComponentDescriptionDTOs()) {
            Object type = description.properties.get(Driver.TYPE);
            Object name = description.properties.get(Driver.NAME);
            if (type == null || name == null || registered.contains(type + "/" + name)) {
                continue;
            }
            Row row = fromComponent(scr, description, type.toString(), name.toString());
            if (row != null) {
                rows.add(row);
            }
        }
        rows.sort(Comparator.comparing(Row::type).thenComparing(Row::name));
        return new DriverTable(rows);
    }

    private static Row fromService(BundleContext context, ServiceReference<?> ref, String type, String name) {
        String version = ref.getBundle() == null ? "" : ref.getBundle().getVersion().toString();
        Object service = context.getService(ref);
        try {
            if (!(service instanceof Driver driver)) {
                return new Row(type, name, version, "FAILED",
                        "registered object is not an io.berth.spi.driver.Driver of this SPI version");
            }
            DriverStatus status;
            try {
                status = driver.status();
            } catch (RuntimeException e) {
                return new Row(type, name, version, "FAILED", "status() threw " + e);
            }
            return new Row(type, name, version, status.state().name(), status.reason());
        } finally {
            if (service != null) {
                context.ungetService(ref);
            }
        }
    }

    /** A driver component that registered nothing; {@code null} if it is active after all (racing). */
    private static Row fromComponent(ServiceComponentRuntime scr, ComponentDescriptionDTO description,
                                     String type, String name) {
        String version = description.bundle == null ? "" : description.bundle.version;
        if (!scr.isComponentEnabled(description)) {
            return new Row(type, name, version, "UNCONFIGURED", "component " + description.name + " is disabled");
        }
        var configurations = scr.getComponentConfigurationDTOs(description);
        if (configurations.isEmpty()) {
            return new Row(type, name, version, "UNCONFIGURED",
                    "needs configuration " + String.join(", ", description.configurationPid));
        }
        for (ComponentConfigurationDTO configuration : configurations) {
            switch (configuration.state) {
                case ComponentConfigurationDTO.FAILED_ACTIVATION:
                    return new Row(type, name, version, "FAILED", String.valueOf(configuration.failure).lines()
                            .findFirst().orElse("activation failed"));
                case ComponentConfigurationDTO.UNSATISFIED_REFERENCE:
                    List<String> missing = new ArrayList<>();
                    for (UnsatisfiedReferenceDTO reference : configuration.unsatisfiedReferences) {
                        missing.add(reference.name);
                    }
                    return new Row(type, name, version, "FAILED", "missing dependencies: " + String.join(", ", missing));
                case ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION:
                    return new Row(type, name, version, "UNCONFIGURED",
                            "needs configuration " + String.join(", ", description.configurationPid));
                default:
                    break;
            }
        }
        return null;
    }

    String render() {
        List<String[]> table = new ArrayList<>();
        table.add(new String[] {"TYPE", "NAME", "VERSION", "STATUS", "REASON"});
        for (Row row : rows) {
            table.add(new String[] {row.type(), row.name(), row.version(), row.state(), row.reason()});
        }
        return rows.isEmpty() ? "no drivers registered\n" : Table.render(table);
    }
}
