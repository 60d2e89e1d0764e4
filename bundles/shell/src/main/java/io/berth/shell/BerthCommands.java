package io.berth.shell;

import io.berth.spi.kernel.KernelProperties;
import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.List;
import org.apache.felix.service.command.Descriptor;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.startlevel.BundleStartLevel;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.component.runtime.ServiceComponentRuntime;

/** Gogo commands in scope {@code berth} that describe the daemon itself. */
@Component(service = BerthCommands.class, property = {
        "osgi.command.scope=berth",
        "osgi.command.function=info",
        "osgi.command.function=drivers",
        "osgi.command.function=config"})
public class BerthCommands {

    private final BundleContext context;
    private final ServiceComponentRuntime scr;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile ConfigurationAdmin configurationAdmin;

    @Activate
    public BerthCommands(BundleContext context, @Reference ServiceComponentRuntime scr) {
        this.context = context;
        this.scr = scr;
    }

    @Descriptor("show the daemon's version, directories, uptime and bundles")
    public void info() {
        System.out.print(infoText());
    }

    @Descriptor("list every storage, network and runtime driver with its status")
    public void drivers() throws InvalidSyntaxException {
        System.out.print(DriverTable.collect(context, scr).render());
    }

    @Descriptor("show the daemon configuration (daemon.json merged with berthd's flags) as the subsystems see it")
    public void config() throws IOException, InvalidSyntaxException {
        ConfigurationAdmin admin = configurationAdmin;
        if (admin == null) {
            throw new IllegalStateException("ConfigAdmin is not running");
        }
        Configuration[] found = admin.listConfigurations(
                "(" + Constants.SERVICE_PID + "=" + KernelProperties.DAEMON_PID + ")");
        if (found == null || found.length == 0) {
            System.out.println("no daemon configuration (" + KernelProperties.DAEMON_PID + ") in ConfigAdmin");
            return;
        }
        Dictionary<String, Object> properties = found[0].getProperties();
        List<String> keys = new ArrayList<>();
        for (Enumeration<String> names = properties.keys(); names.hasMoreElements(); ) {
            String key = names.nextElement();
            if (!key.startsWith("service.") && !key.startsWith("felix.")) {
                keys.add(key);
            }
        }
        keys.sort(null);
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"KEY", "VALUE"});
        for (String key : keys) {
            Object value = properties.get(key);
            rows.add(new String[] {key, value instanceof Object[] array ? Arrays.toString(array) : String.valueOf(value)});
        }
        System.out.print(Table.render(rows));
    }

    String infoText() {
        StringBuilder text = new StringBuilder();
        Bundle framework = context.getBundle(0);
        text.append("berth ").append(property(KernelProperties.VERSION)).append('\n');
        line(text, "Data root", property(KernelProperties.DATA_ROOT));
        line(text, "Exec root", property(KernelProperties.EXEC_ROOT));
        line(text, "Kernel", "OSGi framework " + framework.getSymbolicName() + " " + framework.getVersion()
                + " on Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")");
        line(text, "Uptime", uptime());
        line(text, "Listening", String.join(", ", listeners()));
        List<Bundle> subsystems = new ArrayList<>();
        List<Bundle> platform = new ArrayList<>();
        for (Bundle bundle : context.getBundles()) {
            if (bundle.getBundleId() == 0) {
                continue;
            }
            String name = String.valueOf(bundle.getSymbolicName());
            (name.startsWith("io.berth.") ? subsystems : platform).add(bundle);
        }
        long active = Arrays.stream(context.getBundles()).filter(b -> b.getState() == Bundle.ACTIVE).count();
        line(text, "Bundles", context.getBundles().length + " (" + active + " active)");
        text.append("\nSubsystems:\n");
        bundleTable(text, subsystems);
        text.append("\nPlatform:\n");
        bundleTable(text, platform);
        return text.toString();
    }

    private String property(String name) {
        String value = context.getProperty(name);
        return value == null ? "(not set)" : value;
    }

    private String uptime() {
        String started = context.getProperty(KernelProperties.STARTED);
        if (started == null) {
            return "(kernel start time not set)";
        }
        Instant since = Instant.ofEpochMilli(Long.parseLong(started));
        Duration up = Duration.between(since, Instant.now());
        return String.format("%dd %dh %dm %d.%03ds (since %s)", up.toDays(), up.toHoursPart(), up.toMinutesPart(),
                up.toSecondsPart(), up.toMillisPart(), since);
    }

    private List<String> listeners() {
        List<String> uris = new ArrayList<>();
        try {
            for (ServiceReference<ServerSocketChannel> ref : context.getServiceReferences(ServerSocketChannel.class,
                    "(" + KernelProperties.LISTENER_URI + "=*)")) {
                uris.add(String.valueOf(ref.getProperty(KernelProperties.LISTENER_URI)));
            }
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        uris.sort(null);
        return uris.isEmpty() ? List.of("(none)") : uris;
    }

    private static void line(StringBuilder text, String label, String value) {
        text.append(String.format("%-11s%s%n", label + ":", value));
    }

    private static void bundleTable(StringBuilder text, List<Bundle> bundles) {
        bundles.sort(Comparator.comparingLong(Bundle::getBundleId));
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"ID", "STATE", "LEVEL", "VERSION", "NAME"});
        for (Bundle bundle : bundles) {
            BundleStartLevel level = bundle.adapt(BundleStartLevel.class);
            rows.add(new String[] {
                    Long.toString(bundle.getBundleId()),
                    BundleStates.name(bundle.getState()),
                    level == null ? "" : Integer.toString(level.getStartLevel()),
                    bundle.getVersion().toString(),
                    String.valueOf(bundle.getSymbolicName())});
        }
        text.append(Table.render(rows));
    }
}
