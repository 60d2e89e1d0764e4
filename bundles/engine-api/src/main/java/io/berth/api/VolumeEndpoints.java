package io.berth.api;

import static io.berth.api.Routes.NAME;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.spi.volumes.Volume;
import io.berth.spi.volumes.VolumeService;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.http.HttpStatus;

/** {@code /volumes...}: {@code docker volume create/ls/inspect/rm/prune}. */
final class VolumeEndpoints {

    private final Service<VolumeService> service;

    VolumeEndpoints(Service<VolumeService> service) {
        this.service = service;
    }

    void addTo(Routes routes) {
        String one = "/volumes/(?<name>" + NAME + ")";
        routes.add("GET", "/volumes", this::list)
                .add("POST", "/volumes/create", this::create)
                .add("POST", "/volumes/prune", this::prune)
                .add("GET", one, x -> x.json(HttpStatus.OK_200, service.get().inspect(x.path("name"))))
                .add("DELETE", one, x -> {
                    service.get().remove(x.path("name"), x.flag("force"));
                    x.status(HttpStatus.NO_CONTENT_204);
                });
    }


    private void list(Exchange x) throws IOException {
        Map<String, List<String>> filters = x.filters();
        for (String kind : filters.keySet()) {
            if (!kind.equals("name") && !kind.equals("driver") && !kind.equals("label")) {
                throw new ApiException(HttpStatus.BAD_REQUEST_400, "invalid filter '" + kind
                        + "': the filters are name, driver and label");
            }
        }
        List<Volume> shown = new ArrayList<>();
        for (Volume volume : service.get().list()) {
            Map<String, String> labels = volume.labels() == null ? Map.of() : volume.labels();
            boolean name = filters.getOrDefault("name", List.of()).stream().allMatch(n -> volume.name().contains(n));
            boolean driver = filters.getOrDefault("driver", List.of()).stream().allMatch(volume.driver()::equals);
            boolean label = filters.getOrDefault("label", List.of()).stream().allMatch(l -> Filters.label(l, labels));
            if (name && driver && label) {
                shown.add(volume);
            }
        }
        ObjectNode answer = Exchange.JSON.createObjectNode();
        answer.set("Volumes", Exchange.JSON.valueToTree(shown));
        answer.putArray("Warnings");
        x.json(HttpStatus.OK_200, answer);
    }

    private void create(Exchange x) throws IOException {
        JsonNode body = x.bodyTree();
        String name = body == null ? null : text(body, "Name");
        String driver = body == null ? null : text(body, "Driver");
        if (driver != null && !driver.equals("local")) {
            throw new ApiException(HttpStatus.NOT_FOUND_404, "plugin \"" + driver + "\" not found");
        }
        Volume volume = service.get().create(name, Exchange.stringMap(body, "Labels"),
                Exchange.stringMap(body, "DriverOpts"));
        x.json(HttpStatus.CREATED_201, volume);
    }

    private void prune(Exchange x) throws IOException {
        List<String> all = x.filters().getOrDefault("all", List.of());
        List<String> deleted = service.get().prune(all.contains("true") || all.contains("1"));
        ObjectNode answer = Exchange.JSON.createObjectNode();
        answer.set("VolumesDeleted", Exchange.JSON.valueToTree(deleted));
        answer.put("SpaceReclaimed", 0);
        x.json(HttpStatus.OK_200, answer);
    }

    private static String text(JsonNode body, String field) {
        JsonNode value = body.get(field);
        return value == null || value.isNull() || value.asText().isEmpty() ? null : value.asText();
    }
}
