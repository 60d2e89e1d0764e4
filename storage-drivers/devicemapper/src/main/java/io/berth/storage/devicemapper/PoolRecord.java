package io.berth.storage.devicemapper;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.berth.storage.support.DiskFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the pool's own metadata cannot say: which thin device holds which layer.
 * Kept in {@code <root>/metadata.json}, rewritten whole and atomically after
 * every change, so a restarted driver (bundle update, daemon restart, reboot)
 * finds every layer's device again.
 *
 * <p>A thin device id is taken from {@link #nextDeviceId} and written down as
 * {@link #pendingDeviceId} before the pool is asked to create it; a crash
 * between the two leaves at worst a device that the next start deletes. Ids
 * are never reused, as the pool may still hold a device whose deletion was
 * deferred.
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY,
        getterVisibility = JsonAutoDetect.Visibility.NONE, isGetterVisibility = JsonAutoDetect.Visibility.NONE)
final class PoolRecord {

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** One layer: its thin device, its parent layer, its device size and its outstanding gets. */
    @JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
    record Layer(int deviceId, String parent, long size, int refs) {

        Layer withRefs(int newRefs) {
            return new Layer(deviceId, parent, size, newRefs);
        }
    }

    /** The next unused thin device id; 0 is never used. */
    int nextDeviceId = 1;
    /** A device id handed to the pool whose layer is not recorded yet, or {@code null}. */
    Integer pendingDeviceId;
    /** Layers by id. */
    Map<String, Layer> layers = new TreeMap<>();
    /** Devices of removed layers that were still open; deleted from the pool once they are closed. */
    List<Integer> deferredDeletes = new ArrayList<>();

    /** The record at {@code file}, or {@code null} when there is none (a pool this driver never formatted). */
    static PoolRecord read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return null;
        }
        try {
            PoolRecord record = JSON.readValue(file.toFile(), PoolRecord.class);
            if (record.layers == null || record.deferredDeletes == null || record.nextDeviceId < 1) {
                throw new IOException("incomplete");
            }
            return record;
        } catch (IOException e) {
            throw new IOException("the devicemapper record " + file + " is unreadable: " + e.getMessage(), e);
        }
    }

    void write(Path file) throws IOException {
        DiskFiles.writeAtomically(file, JSON.writeValueAsBytes(this));
    }
}
