package io.berth.containers;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.storage.support.DiskFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Containers on disk: one directory per container under the root, {@code <id>/container.json} written
 * atomically, and the container's log beside it.
 */
final class ContainerStateFiles {

    private static final System.Logger LOG = System.getLogger("berth.containers");
    static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final String RECORD = "container.json";

    private final Path root;

    ContainerStateFiles(Path root) throws IOException {
        this.root = Files.createDirectories(root);
    }

    Path directory(String id) {
        return root.resolve(id);
    }

    /** The log file conmon writes in k8s-file format. */
    Path logFile(String id) {
        return directory(id).resolve(id + "-k8s-file.log");
    }

    void save(StoredContainer container) throws IOException {
        Path dir = Files.createDirectories(directory(container.id()));
        DiskFiles.writeAtomically(dir.resolve(RECORD), JSON.writeValueAsBytes(container));
    }

    /**
     * Every container recorded. A directory without a record is what a crash in the middle of a create left: it
     * is removed, and its id handed to {@code unfinished} so the caller can remove the rest.
     */
    List<StoredContainer> loadAll(Consumer<String> unfinished) throws IOException {
        List<StoredContainer> all = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(root)) {
            for (Path dir : dirs.toList()) {
                Path record = dir.resolve(RECORD);
                if (!Files.isRegularFile(record)) {
                    LOG.log(System.Logger.Level.WARNING, "removing " + dir + ": no " + RECORD
                            + " (a create that did not finish)");
                    DiskFiles.deleteTree(dir);
                    unfinished.accept(dir.getFileName().toString());
                    continue;
                }
                all.add(JSON.readValue(record.toFile(), StoredContainer.class));
            }
        }
        return all;
    }

    void delete(String id) throws IOException {
        DiskFiles.deleteTree(directory(id));
    }
}
