package io.berth.api;

import static io.berth.api.Routes.NAME;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.spi.containers.ContainerService;
import io.berth.spi.network.NetworkDriver;
import io.berth.spi.network.NetworkResource;
import io.berth.spi.network.NetworkService;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.http.HttpStatus;

/** {@code /networks...}: {@code docker network create/ls/inspect/rm/prune}. */
final class NetworkEndpoints {

    private static final List<String> FILTERS = List.of("name", "id", "driver", "label", "type", "dangling");

    private final Service<NetworkService> service;
    private final Service<ContainerService> containers;

    NetworkEndpoints(Service<NetworkService> service, Service<ContainerService> containers) {
        this.service = service;
        this.containers = containers;
    }

    void addTo(Routes routes) {
        String one = "/networks/(?<id>" + NAME + ")";
        routes.add("GET", "/networks", this::list)
                .add("POST", "/networks/create", this::create)
                .add("POST", "/networks/prune", this::prune)
                .add("GET", one, x -> x.json(HttpStatus.OK_200, service.get().inspect(x.path("id"))))
                .add("POST", one + "/connect", this::connect)
                .add("POST", one + "/disconnect", this::disconnect)
                .add("DELETE", one, x -> {
                    service.get().remove(x.path("id"));
                    x.status(HttpStatus.NO_CONTENT_204);
                });
    }


    private void list(Exchange x) throws IOException {
        Map<String, List<String>> filters = x.filters();
        for (String kind : filters.keySet()) {
            if (!FILTERS.contains(kind)) {
                throw new ApiException(HttpStatus.BAD_REQUEST_400, "invalid filter '" + kind + "'");
            }
        }
        List<NetworkResource> shown = new ArrayList<>();
        for (NetworkResource network : service.get().list()) {
            boolean predefined = List.of("bridge", "host", "none").contains(network.name());
            if (Filters.any(filters, "name", network.name()::contains)
                    && Filters.any(filters, "id", network.id()::startsWith)
                    && Filters.any(filters, "driver", network.driver()::equals)
                    && Filters.any(filters, "type", t -> t.equals(predefined ? "builtin" : "custom"))
                    && Filters.any(filters, "dangling", d -> Boolean.parseBoolean(d) == network.containers().isEmpty())
                    && Filters.any(filters, "label", l -> Filters.label(l, network.labels()))) {
                shown.add(network);
            }
        }
        x.json(HttpStatus.OK_200, shown);
    }

    /** {@code Name}, {@code Driver}, {@code Internal}, {@code IPAM.Config[0]} (subnet, gateway), options, labels. */
    private void create(Exchange x) throws IOException {
        JsonNode body = x.bodyTree();
        if (body == null || !body.path("Name").isTextual() || body.path("Name").asText().isEmpty()) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "network name is required");
        }
        Map<String, String> options = Exchange.stringMap(body, "Options");
        JsonNode configs = body.path("IPAM").path("Config");
        if (configs.size() > 1) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "berth networks have one subnet: give one IPAM config");
        }
        if (configs.size() == 1) {
            JsonNode config = configs.get(0);
            if (config.hasNonNull("Subnet") && !config.get("Subnet").asText().isEmpty()) {
                options.put(NetworkDriver.OPTION_SUBNET, config.get("Subnet").asText());
            }
            if (config.hasNonNull("Gateway") && !config.get("Gateway").asText().isEmpty()) {
                options.put(NetworkDriver.OPTION_GATEWAY, config.get("Gateway").asText());
            }
            if (config.hasNonNull("IPRange") && !config.get("IPRange").asText().isEmpty()) {
                throw new ApiException(HttpStatus.BAD_REQUEST_400, "--ip-range is not supported by berth's bridge");
            }
        }
        if (body.path("Internal").asBoolean(false)) {
            options.put(NetworkDriver.OPTION_INTERNAL, "true");
        }
        if (body.path("EnableIPv6").asBoolean(false)) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "IPv6 networks are not supported by berth yet");
        }
        String driver = body.path("Driver").asText("");
        NetworkResource created = service.get().create(body.get("Name").asText(), driver, options,
                Exchange.stringMap(body, "Labels"));
        ObjectNode answer = Exchange.JSON.createObjectNode().put("Id", created.id()).put("Warning", "");
        x.json(HttpStatus.CREATED_201, answer);
    }

    /** {@code {"Container": ..., "EndpointConfig": {"Aliases": [...]}}}: joins a running container. */
    private void connect(Exchange x) throws IOException {
        JsonNode body = x.bodyTree();
        String container = body == null ? "" : body.path("Container").asText("");
        if (container.isEmpty()) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "Container is required");
        }
        List<String> aliases = new ArrayList<>();
        body.path("EndpointConfig").path("Aliases").forEach(alias -> aliases.add(alias.asText()));
        JsonNode ipam = body.path("EndpointConfig").path("IPAMConfig");
        if (!ipam.path("IPv4Address").asText("").isEmpty() || !ipam.path("IPv6Address").asText("").isEmpty()) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "--ip is not supported by berth: addresses come"
                    + " from the network's IPAM");
        }
        containers.get().connect(container, x.path("id"), aliases);
        x.status(HttpStatus.OK_200);
    }

    private void disconnect(Exchange x) throws IOException {
        JsonNode body = x.bodyTree();
        String container = body == null ? "" : body.path("Container").asText("");
        if (container.isEmpty()) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "Container is required");
        }
        containers.get().disconnect(container, x.path("id"));
        x.status(HttpStatus.OK_200);
    }

    private void prune(Exchange x) throws IOException {
        ObjectNode answer = Exchange.JSON.createObjectNode();
        answer.set("NetworksDeleted", Exchange.JSON.valueToTree(service.get().prune()));
        x.json(HttpStatus.OK_200, answer);
    }
}
