package io.berth.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.berth.spi.images.RegistryClient;
import io.berth.spi.images.RegistryClient.SearchResult;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.http.HttpStatus;

/**
 * {@code GET /images/search}, which {@code docker search} asks: the registry the term names (Docker Hub when it
 * names none) answers through the registry client; the filters are applied here, as dockerd applies them.
 */
final class SearchEndpoints {

    private static final List<String> FILTERS = List.of("is-automated", "is-official", "stars");

    private final Service<RegistryClient> registry;

    SearchEndpoints(Service<RegistryClient> registry) {
        this.registry = registry;
    }

    void addTo(Routes routes) {
        routes.add("GET", "/images/search", this::search);
    }

    private void search(Exchange x) throws IOException {
        String term = x.query("term");
        if (term == null || term.isBlank()) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "term is required: what to search for");
        }
        Map<String, List<String>> filters = x.filters();
        for (String kind : filters.keySet()) {
            if (!FILTERS.contains(kind)) {
                throw new ApiException(HttpStatus.BAD_REQUEST_400, "invalid filter '" + kind + "'");
            }
        }
        Boolean automated = bool(filters, "is-automated");
        Boolean official = bool(filters, "is-official");
        int stars = stars(filters);
        int limit = x.integer("limit", 0) == 0 ? 25 : x.integer("limit", 0);
        ArrayNode answer = Exchange.JSON.createArrayNode();
        for (SearchResult found : registry.get().search(term, limit, TransferEndpoints.credentials(x))) {
            if ((automated != null && found.automated() != automated)
                    || (official != null && found.official() != official) || found.starCount() < stars) {
                continue;
            }
            answer.addObject().put("name", found.name()).put("description", found.description())
                    .put("star_count", found.starCount()).put("is_official", found.official())
                    .put("is_automated", found.automated());
        }
        x.json(HttpStatus.OK_200, answer);
    }

    /** A true/false filter: null when not given. */
    private static Boolean bool(Map<String, List<String>> filters, String kind) {
        List<String> values = filters.get(kind);
        if (values == null || values.isEmpty()) {
            return null;
        }
        String value = values.get(values.size() - 1);
        if (!value.equalsIgnoreCase("true") && !value.equalsIgnoreCase("false")) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "invalid filter '" + kind + "=" + value + "'");
        }
        return Boolean.parseBoolean(value);
    }

    /** The {@code stars} filter: the highest number given, 0 when none. */
    private static int stars(Map<String, List<String>> filters) {
        int most = 0;
        for (String value : filters.getOrDefault("stars", List.of())) {
            try {
                most = Math.max(most, Integer.parseInt(value));
            } catch (NumberFormatException e) {
                throw new ApiException(HttpStatus.BAD_REQUEST_400, "invalid filter 'stars=" + value + "'");
            }
        }
        return most;
    }
}
