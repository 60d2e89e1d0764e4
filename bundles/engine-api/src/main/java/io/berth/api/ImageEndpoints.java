package io.berth.api;

import static io.berth.api.Routes.REFERENCE;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.spi.images.Image;
import io.berth.spi.images.ImageHistory;
import io.berth.spi.images.ImagePruneReport;
import io.berth.spi.images.ImageStore;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.http.HttpStatus;

/** {@code /images/...} that work on the local store: {@code docker images/image inspect/rmi/tag/history/image prune}. */
final class ImageEndpoints {

    private final Service<ImageStore> service;

    ImageEndpoints(Service<ImageStore> service) {
        this.service = service;
    }

    void addTo(Routes routes) {
        String one = "/images/(?<name>" + REFERENCE + ")";
        routes.add("GET", "/images/json", this::list)
                .add("POST", "/images/prune", this::prune)
                .add("GET", one + "/json", x -> x.json(HttpStatus.OK_200,
                        Exchange.JSON.readTree(service.get().inspect(x.path("name")))))
                .add("GET", one + "/history", this::history)
                .add("POST", one + "/tag", this::tag)
                .add("DELETE", one, this::remove);
    }


    private void list(Exchange x) throws IOException {
        Map<String, List<String>> filters = x.filters();
        for (String kind : filters.keySet()) {
            if (!kind.equals("dangling") && !kind.equals("reference")) {
                throw new ApiException(HttpStatus.BAD_REQUEST_400, "invalid filter '" + kind
                        + "': the filters are dangling and reference");
            }
        }
        List<String> dangling = filters.getOrDefault("dangling", List.of());
        List<String> references = filters.getOrDefault("reference", List.of());
        ArrayNode list = Exchange.JSON.createArrayNode();
        for (Image image : service.get().list()) {
            boolean isDangling = image.repoTags().isEmpty();
            if (!dangling.isEmpty() && dangling.stream().noneMatch(d -> Boolean.parseBoolean(d) == isDangling)) {
                continue;
            }
            if (!references.isEmpty() && references.stream().noneMatch(r -> image.repoTags().stream()
                    .anyMatch(tag -> matches(r, tag)))) {
                continue;
            }
            list.add(summary(image, -1, -1));
        }
        x.json(HttpStatus.OK_200, list);
    }

    /** One entry of {@code GET /images/json} (-1: not computed, as dockerd says it there). */
    static ObjectNode summary(Image image, long sharedSize, int containers) {
        ObjectNode entry = Exchange.JSON.createObjectNode();
        entry.put("Id", image.id()).put("ParentId", "");
        entry.set("RepoTags", Exchange.JSON.valueToTree(image.repoTags()));
        entry.set("RepoDigests", Exchange.JSON.valueToTree(image.repoDigests()));
        entry.put("Created", Instant.parse(image.created()).getEpochSecond());
        entry.put("Size", image.size()).put("SharedSize", sharedSize).put("VirtualSize", image.size());
        entry.putObject("Labels");
        entry.put("Containers", containers);
        return entry;
    }

    /** A reference filter: {@code busybox} matches {@code busybox:latest}, a {@code *} any run of characters. */
    private static boolean matches(String filter, String tag) {
        String pattern = java.util.regex.Pattern.quote(filter).replace("*", "\\E[^/]*\\Q");
        return tag.matches(pattern) || tag.matches(pattern + ":.*")
                || tag.matches("docker\\.io/(library/)?" + pattern + "(:.*)?");
    }

    private void history(Exchange x) throws IOException {
        ArrayNode list = Exchange.JSON.createArrayNode();
        for (ImageHistory h : service.get().history(x.path("name"))) {
            ObjectNode entry = list.addObject();
            entry.put("Id", h.id()).put("Created", Instant.parse(h.created()).getEpochSecond())
                    .put("CreatedBy", h.createdBy()).put("Size", h.size()).put("Comment", h.comment());
            entry.set("Tags", Exchange.JSON.valueToTree(h.tags()));
        }
        x.json(HttpStatus.OK_200, list);
    }

    private void tag(Exchange x) throws IOException {
        String repo = x.query("repo");
        if (repo == null || repo.isEmpty()) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "repository name must have at least one component");
        }
        String tag = x.query("tag");
        service.get().tag(x.path("name"), tag == null || tag.isEmpty() ? repo : repo + ":" + tag);
        x.status(HttpStatus.CREATED_201);
    }

    /** {@code [{"Untagged": ...}, {"Deleted": ...}]} from the store's "Untagged: ..." and "Deleted: ..." lines. */
    private void remove(Exchange x) throws IOException {
        ArrayNode answer = Exchange.JSON.createArrayNode();
        for (String line : service.get().remove(x.path("name"), x.flag("force"))) {
            int colon = line.indexOf(": ");
            if (colon > 0) {
                answer.addObject().put(line.substring(0, colon), line.substring(colon + 2));
            }
        }
        x.json(HttpStatus.OK_200, answer);
    }

    private void prune(Exchange x) throws IOException {
        List<String> dangling = x.filters().getOrDefault("dangling", List.of("true"));
        ImagePruneReport report = service.get().prune(dangling.contains("false"));
        ObjectNode answer = Exchange.JSON.createObjectNode();
        ArrayNode deleted = answer.putArray("ImagesDeleted");
        report.deleted().forEach(id -> deleted.addObject().put("Deleted", id));
        answer.put("SpaceReclaimed", report.spaceReclaimed());
        x.json(HttpStatus.OK_200, answer);
    }
}
