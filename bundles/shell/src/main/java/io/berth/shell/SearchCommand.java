package io.berth.shell;

import io.berth.spi.images.RegistryClient;
import io.berth.spi.images.RegistryClient.SearchResult;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code berth:search}, as {@code docker search}: a component of its own because it needs only the registry client,
 * so it is there exactly when that bundle is.
 */
@Component(service = SearchCommand.class, property = {
        "osgi.command.scope=berth",
        "osgi.command.function=search"})
public class SearchCommand {

    /** docker search's width for descriptions unless {@code --no-trunc}. */
    private static final int DESCRIPTION_WIDTH = 45;

    private final RegistryClient registry;

    @Activate
    public SearchCommand(@Reference RegistryClient registry) {
        this.registry = registry;
    }

    @Descriptor("search a registry for repositories: HOST:PORT/WORDS asks that registry, other terms Docker Hub")
    public void search(@Parameter(names = {"--limit"}, absentValue = "25")
                       @Descriptor("at most this many results (1 to 100)") int limit,
                       @Parameter(names = {"--no-trunc"}, presentValue = "true", absentValue = "false")
                       @Descriptor("show whole descriptions") boolean noTrunc,
                       @Descriptor("what to search for, e.g. localhost:5000/busy") String term) throws IOException {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "DESCRIPTION", "STARS", "OFFICIAL"});
        for (SearchResult found : registry.search(term, limit, RegistryClient.Credentials.NONE)) {
            String description = found.description().replace('\n', ' ');
            if (!noTrunc && description.length() > DESCRIPTION_WIDTH) {
                description = description.substring(0, DESCRIPTION_WIDTH - 3) + "...";
            }
            rows.add(new String[] {found.name(), description, Integer.toString(found.starCount()),
                    found.official() ? "[OK]" : ""});
        }
        System.out.print(Table.render(rows));
    }
}
