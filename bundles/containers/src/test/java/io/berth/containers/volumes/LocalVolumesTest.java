package io.berth.containers.volumes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.storage.support.Commands;
import io.berth.spi.volumes.Volume;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalVolumesTest {

    @TempDir
    Path temp;

    private final Map<String, List<String>> used = new HashMap<>();
    private LocalVolumes volumes;
    private final List<String> mounted = new ArrayList<>();

    @BeforeEach
    void open() throws IOException {
        volumes = new LocalVolumes(temp.resolve("volumes"), name -> used.getOrDefault(name, List.of()));
    }

    @AfterEach
    void unmountAll() throws IOException {
        for (String name : mounted) {
            volumes.unmount(name);
        }
    }

    @Test
    void createInspectListAndRemove() throws IOException {
        Volume created = volumes.create("data", Map.of("app", "web"), Map.of());
        assertEquals("data", created.name());
        assertEquals("local", created.driver());
        assertEquals("local", created.scope());
        assertEquals(Map.of("app", "web"), created.labels());
        assertEquals(temp.resolve("volumes/data/_data").toString(), created.mountpoint());
        assertTrue(Files.isDirectory(Path.of(created.mountpoint())));
        Instant.parse(created.createdAt());

        Files.writeString(Path.of(created.mountpoint(), "kept"), "x");
        Volume again = volumes.create("data", Map.of("other", "labels"), Map.of());
        assertEquals(created, again, "create of an existing name returns it unchanged");
        assertTrue(Files.exists(Path.of(created.mountpoint(), "kept")));

        volumes.create("logs", null, null);
        assertEquals(List.of("data", "logs"), volumes.list().stream().map(Volume::name).toList());
        assertEquals(created, volumes.inspect("data"));

        // A new store over the same root sees the same volumes (the record is on disk).
        LocalVolumes reopened = new LocalVolumes(temp.resolve("volumes"), name -> List.of());
        assertEquals(created, reopened.inspect("data"));

        volumes.remove("data", false);
        assertFalse(Files.exists(temp.resolve("volumes/data")));
        NoSuchElementException missing = assertThrows(NoSuchElementException.class, () -> volumes.inspect("data"));
        assertEquals("get data: no such volume", missing.getMessage());
        assertThrows(NoSuchElementException.class, () -> volumes.remove("data", false));
        volumes.remove("data", true); // force: a missing volume is fine
        assertEquals(List.of("logs"), volumes.list().stream().map(Volume::name).toList());
    }

    @Test
    void anonymousVolumesHave64HexDigitsAndDockersLabel() throws IOException {
        Volume anonymous = volumes.create(null, Map.of(), Map.of());
        assertTrue(anonymous.name().matches("[0-9a-f]{64}"), anonymous.name());
        assertEquals(Map.of(LocalVolumes.ANONYMOUS_LABEL, ""), anonymous.labels());
        assertTrue(volumes.isAnonymous(anonymous.name()));
        Volume other = volumes.create("", null, null);
        assertFalse(other.name().equals(anonymous.name()));
        assertFalse(volumes.isAnonymous(volumes.create("named", null, null).name()));
    }

    @Test
    void recordIsJsonWithCreatedLabelsOptionsAndAnonymousFlag() throws IOException {
        volumes.create("rec", Map.of("a", "b"), Map.of("type", "tmpfs", "device", "tmpfs", "o", "size=1m"));
        Map<?, ?> record = new ObjectMapper().readValue(temp.resolve("volumes/rec/volume.json").toFile(), Map.class);
        assertEquals(Map.of("a", "b"), record.get("Labels"));
        assertEquals(Map.of("type", "tmpfs", "device", "tmpfs", "o", "size=1m"), record.get("Options"));
        assertEquals(false, record.get("Anonymous"));
        assertTrue(record.containsKey("CreatedAt"));
        try (var names = Files.list(temp.resolve("volumes"))) {
            assertEquals(List.of("rec"), names.map(p -> p.getFileName().toString()).toList(), "no temp dirs left");
        }
    }

    @Test
    void namesAreValidatedAsDockerDoes() throws IOException {
        for (String good : List.of("ab", "a1", "my_vol.2-x", "0abc", "A_")) {
            volumes.create(good, null, null);
        }
        IllegalArgumentException shortName = assertThrows(IllegalArgumentException.class,
                () -> volumes.create("a", null, null));
        assertEquals("volume name is too short, names should be at least two alphanumeric characters",
                shortName.getMessage());
        for (String bad : List.of("_ab", ".ab", "-ab", "a/b", "../x", "a b", "ab:c", "./data")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> volumes.create(bad, null, null), bad);
            assertEquals("\"" + bad + "\" includes invalid characters for a local volume name, only"
                    + " \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use"
                    + " absolute path", e.getMessage());
        }
        assertEquals(5, volumes.list().size(), "refused names stored nothing");
        assertThrows(NoSuchElementException.class, () -> volumes.inspect("../volumes"));
    }

    @Test
    void badOptionsAreRefusedAndStoreNothing() throws IOException {
        assertEquals("invalid option: \"uid\"", assertThrows(IllegalArgumentException.class,
                () -> volumes.create("v1", null, Map.of("uid", "1000"))).getMessage());
        assertEquals("quota size requested but no quota support", assertThrows(IllegalArgumentException.class,
                () -> volumes.create("v1", null, Map.of("size", "1g"))).getMessage());
        assertEquals("missing required option: \"type\"", assertThrows(IllegalArgumentException.class,
                () -> volumes.create("v1", null, Map.of("o", "size=1m"))).getMessage());
        assertEquals("missing required option: \"device\"", assertThrows(IllegalArgumentException.class,
                () -> volumes.create("v1", null, Map.of("type", "tmpfs"))).getMessage());
        assertEquals("missing required option: \"type\"", assertThrows(IllegalArgumentException.class,
                () -> volumes.create("v1", null, Map.of("device", "tmpfs"))).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> volumes.create("v1", null, Map.of("type", "nfs", "device", ":/x", "o", "addr=1.2.3.4")))
                .getMessage().startsWith("unsupported volume type \"nfs\""));
        assertEquals("bind source path does not exist: /no/such/dir", assertThrows(IllegalArgumentException.class,
                () -> volumes.create("v1", null, Map.of("type", "none", "o", "bind", "device", "/no/such/dir")))
                .getMessage());
        assertEquals(List.of(), volumes.list());
    }

    @Test
    void inUseVolumeIsNotRemovedAndPruneSkipsIt() throws IOException {
        volumes.create("busy", null, null);
        volumes.create("idle", null, null);
        String anonymousBusy = volumes.create(null, null, null).name();
        String anonymousIdle = volumes.create(null, null, null).name();
        used.put("busy", List.of("c1", "c2"));
        used.put(anonymousBusy, List.of("c3"));

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> volumes.remove("busy", false));
        assertEquals("remove busy: volume is in use - [c1, c2]", e.getMessage());
        assertThrows(IllegalStateException.class, () -> volumes.remove("busy", true), "force does not override use");
        assertTrue(Files.isDirectory(temp.resolve("volumes/busy/_data")));

        assertEquals(List.of(anonymousIdle), volumes.prune(false), "prune: unused anonymous ones only");
        assertEquals(List.of("idle"), volumes.prune(true), "prune all: every unused one");
        assertEquals(List.of(anonymousBusy, "busy").stream().sorted().toList(),
                volumes.list().stream().map(Volume::name).toList());
    }

    @Test
    void tmpfsVolumeIsMountedForUseAndUnmountedAfter() throws IOException {
        volumes.create("scratch", null, Map.of("type", "tmpfs", "device", "tmpfs", "o", "size=1m,mode=0700"));
        mounted.add("scratch");
        Path data = volumes.mount("scratch");
        assertEquals(data, volumes.mount("scratch"), "mounting twice is fine");
        assertEquals("tmpfs", Files.getFileStore(data).type());
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(data)));
        Files.writeString(data.resolve("f"), "in tmpfs");
        volumes.unmount("scratch");
        assertFalse(Files.exists(data.resolve("f")), "the tmpfs content went with the mount");
        volumes.unmount("scratch"); // not mounted: nothing to do
    }

    @Test
    void bindVolumeShowsTheHostDirectoryAndRemovalKeepsIt() throws IOException {
        Path host = Files.createDirectory(temp.resolve("host"));
        Files.writeString(host.resolve("precious"), "keep me");
        volumes.create("bound", null, Map.of("type", "none", "o", "bind", "device", host.toString()));
        mounted.add("bound");
        Path data = volumes.mount("bound");
        assertEquals("keep me", Files.readString(data.resolve("precious")));
        volumes.remove("bound", false); // mounted: unmounted first, never deleted through
        assertEquals("keep me", Files.readString(host.resolve("precious")));
        assertFalse(Files.exists(temp.resolve("volumes/bound")));
        Commands.Result mounts = Commands.run(List.of("findmnt", data.toString()), null, Duration.ofSeconds(10));
        assertEquals(1, mounts.exitCode(), "nothing is left mounted");
    }
}
