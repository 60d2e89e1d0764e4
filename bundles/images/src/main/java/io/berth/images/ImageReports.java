package io.berth.images;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.images.ImageIndex.ImageRecord;
import io.berth.spi.images.ContentStore;
import io.berth.spi.images.Image;
import io.berth.spi.images.ImageDiskUsage;
import io.berth.spi.images.ImageHistory;
import io.berth.spi.images.ImageUsers;
import io.berth.spi.images.Layer;
import io.berth.spi.images.LayerStore;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Read-only views of images as Docker shows them: {@code docker history}, {@code docker image inspect} and the
 * images' part of {@code docker system df -v}. The caller holds the image store's lock.
 */
final class ImageReports {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Go's zero time, which Docker shows for a LastTagTime it did not record. */
    private static final String ZERO_TIME = "0001-01-01T00:00:00Z";

    private final ImageIndex index;
    private final ContentStore content;
    private final LayerStore layers;
    private final ImageUsers users;

    ImageReports(ImageIndex index, ContentStore content, LayerStore layers, ImageUsers users) {
        this.index = index;
        this.content = content;
        this.layers = layers;
        this.users = users;
    }

    /**
     * Docker's ImageHistory: one entry per config history entry, newest first; each entry that is not an
     * {@code empty_layer} takes the next layer (and its size); only the newest carries the image's id and tags.
     */
    List<ImageHistory> history(String nameOrId) throws IOException {
        ImageRecord record = index.require(nameOrId);
        JsonNode config = config(record);
        List<ImageHistory> entries = new ArrayList<>();
        int layer = 0;
        for (JsonNode step : config.path("history")) {
            long size = 0;
            if (!step.path("empty_layer").asBoolean(false)) {
                if (layer >= record.layers().size()) {
                    throw new IOException("image " + record.id() + ": too many non-empty layers in its history");
                }
                Layer stored = layers.get(record.layers().get(layer++));
                size = stored == null ? 0 : stored.size();
            }
            entries.add(0, new ImageHistory("<missing>", step.path("created").asText(""),
                    step.path("created_by").asText(""), List.of(), size, step.path("comment").asText("")));
        }
        if (!entries.isEmpty()) {
            ImageHistory newest = entries.get(0);
            entries.set(0, new ImageHistory(record.id(), newest.created(), newest.createdBy(), image(record).repoTags(),
                    newest.size(), newest.comment()));
        }
        return entries;
    }

    /** Docker's image inspect document (Engine API {@code /images/{name}/json}). */
    byte[] inspect(String nameOrId) throws IOException {
        ImageRecord record = index.require(nameOrId);
        JsonNode config = config(record);
        Image image = image(record);
        ObjectNode doc = JSON.createObjectNode();
        doc.put("Id", record.id());
        image.repoTags().forEach(doc.putArray("RepoTags")::add);
        image.repoDigests().forEach(doc.putArray("RepoDigests")::add);
        doc.put("Parent", "");
        doc.put("Comment", config.path("comment").asText(""));
        doc.put("Created", config.path("created").asText(""));
        doc.put("DockerVersion", config.path("docker_version").asText(""));
        doc.put("Author", config.path("author").asText(""));
        doc.set("Config", config.path("config").isObject() ? config.get("config") : null);
        doc.put("Architecture", config.path("architecture").asText(""));
        if (config.hasNonNull("variant")) {
            doc.put("Variant", config.get("variant").asText());
        }
        doc.put("Os", config.path("os").asText(""));
        if (config.hasNonNull("os.version")) {
            doc.put("OsVersion", config.get("os.version").asText());
        }
        doc.put("Size", record.size());
        ObjectNode graphDriver = doc.putObject("GraphDriver");
        Layer top = record.top() == null ? null : layers.get(record.top());
        graphDriver.putNull("Data");
        graphDriver.put("Name", top == null ? "" : top.driver());
        ObjectNode rootfs = doc.putObject("RootFS");
        rootfs.put("Type", "layers");
        ArrayNode diffIds = rootfs.putArray("Layers");
        record.diffIds().forEach(diffIds::add);
        doc.putObject("Metadata").put("LastTagTime", ZERO_TIME);
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(doc);
    }

    /**
     * Each image with the bytes it shares with others and the bytes only it has; every layer counted once in the
     * total, as {@code docker system df -v} shows them.
     *
     * @param images every image, in the order to report them
     */
    ImageDiskUsage diskUsage(List<Image> images) throws IOException {
        Map<String, Integer> imagesPerLayer = new HashMap<>();
        Map<String, Long> layerSizes = new HashMap<>();
        for (Image image : images) {
            for (String chainId : image.layers()) {
                imagesPerLayer.merge(chainId, 1, Integer::sum);
                if (!layerSizes.containsKey(chainId)) {
                    Layer layer = layers.get(chainId);
                    layerSizes.put(chainId, layer == null ? 0 : layer.size());
                }
            }
        }
        List<ImageDiskUsage.Entry> entries = new ArrayList<>();
        for (Image image : images) {
            long shared = 0;
            long all = 0;
            for (String chainId : image.layers()) {
                all += layerSizes.get(chainId);
                if (imagesPerLayer.get(chainId) > 1) {
                    shared += layerSizes.get(chainId);
                }
            }
            entries.add(new ImageDiskUsage.Entry(image, shared, all - shared, users.usersOf(image.id()).size()));
        }
        long total = layerSizes.values().stream().mapToLong(Long::longValue).sum();
        return new ImageDiskUsage(total, entries);
    }

    private Image image(ImageRecord record) throws IOException {
        return ImageIndex.toImage(record, index.namesById().getOrDefault(record.id(), List.of()));
    }

    private JsonNode config(ImageRecord record) throws IOException {
        try (InputStream in = content.read(record.id())) {
            JsonNode config = JSON.readTree(in);
            if (config == null || !config.isObject()) {
                throw new IOException("the config of image " + record.id() + " is not a JSON object");
            }
            return config;
        }
    }
}
