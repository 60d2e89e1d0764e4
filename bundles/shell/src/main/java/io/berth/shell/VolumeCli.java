package io.berth.shell;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.berth.spi.volumes.Volume;
import io.berth.spi.volumes.VolumeService;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The volume commands of scope {@code berth}: {@code volume-create/ls/inspect/rm/prune}, as the docker CLI has them. */
@Command(name = "berth")
final class VolumeCli {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final VolumeService volumes;

    VolumeCli(VolumeService volumes) {
        this.volumes = volumes;
    }

    @Command(name = "volume-create", description = "Create a volume")
    void create(@Option(names = {"-d", "--driver"}, defaultValue = "local", description = "only local") String driver,
                @Option(names = "--label", description = "set a label (name=value)") List<String> labels,
                @Option(names = {"-o", "--opt"}, description = "a driver option (name=value)") List<String> options,
                @Parameters(arity = "0..1", paramLabel = "VOLUME") String name) throws IOException {
        if (!driver.equals("local")) {
            throw new IllegalArgumentException("volume driver " + driver + " is not available: berth has local");
        }
        Volume volume = volumes.create(name, keyValues(labels, "--label"), keyValues(options, "--opt"));
        System.out.println(volume.name());
    }

    @Command(name = "volume-ls", description = "List volumes")
    void ls(@Option(names = {"-q", "--quiet"}, description = "only names") boolean quiet) throws IOException {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"DRIVER", "VOLUME NAME"});
        for (Volume volume : volumes.list()) {
            if (quiet) {
                System.out.println(volume.name());
            }
            rows.add(new String[] {volume.driver(), volume.name()});
        }
        if (!quiet) {
            System.out.print(Table.render(rows));
        }
    }

    @Command(name = "volume-inspect", description = "Show volumes' details as JSON")
    void inspect(@Parameters(arity = "1..*", paramLabel = "VOLUME") List<String> names) throws IOException {
        List<Volume> found = new ArrayList<>();
        for (String name : names) {
            found.add(volumes.inspect(name));
        }
        System.out.println(JSON.writeValueAsString(found));
    }

    @Command(name = "volume-rm", description = "Remove one or more volumes")
    void rm(@Option(names = {"-f", "--force"}, description = "ignore volumes that do not exist") boolean force,
            @Parameters(arity = "1..*", paramLabel = "VOLUME") List<String> names) throws IOException {
        List<String> errors = new ArrayList<>();
        for (String name : names) {
            try {
                volumes.remove(name, force);
                System.out.println(name);
            } catch (IOException | RuntimeException e) {
                errors.add(e.getMessage());
            }
        }
        if (!errors.isEmpty()) {
            throw new IllegalStateException(String.join("\n", errors));
        }
    }

    @Command(name = "volume-prune", description = "Remove unused volumes")
    void prune(@Option(names = {"-a", "--all"}, description = "named volumes too, not only anonymous ones")
               boolean all,
               @Option(names = {"-f", "--force"}, description = "do not ask (the shell never asks)") boolean force)
            throws IOException {
        List<String> removed = volumes.prune(all);
        if (!removed.isEmpty()) {
            System.out.println("Deleted Volumes:");
            removed.forEach(System.out::println);
            System.out.println();
        }
    }

    /** {@code name=value} flags ({@code --label}, {@code --opt}) as a map, refusing entries without a name. */
    static Map<String, String> keyValues(List<String> entries, String flag) {
        Map<String, String> map = new LinkedHashMap<>();
        for (String entry : entries == null ? List.<String>of() : entries) {
            int equals = entry.indexOf('=');
            if (equals <= 0) {
                throw new IllegalArgumentException("invalid argument \"" + entry + "\" for \"" + flag
                        + "\" flag: expected name=value");
            }
            map.put(entry.substring(0, equals), entry.substring(equals + 1));
        }
        return map;
    }
}
