package io.berth.containers.volumes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.spi.containers.Container.MountPoint;
import io.berth.spi.containers.HostConfig;
import io.berth.spi.containers.HostConfig.MountRequest;
import io.berth.spi.containers.HostConfig.TmpfsOptions;
import io.berth.spi.containers.HostConfig.VolumeOptions;
import io.berth.spi.runtime.RuntimeSpec.Mount;
import io.berth.spi.volumes.Volume;
import io.berth.storage.support.Commands;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MountPlannerTest {

    @TempDir
    Path temp;

    private LocalVolumes volumes;
    private MountPlanner planner;
    private Path host;
    private Path rootfs;

    @BeforeEach
    void setUp() throws IOException {
        volumes = new LocalVolumes(temp.resolve("volumes"), name -> List.of());
        planner = new MountPlanner(volumes);
        host = Files.createDirectories(temp.resolve("host"));
        rootfs = Files.createDirectories(temp.resolve("rootfs"));
    }

    private static HostConfig host(List<String> binds, List<MountRequest> mounts, Map<String, String> tmpfs) {
        return new HostConfig(binds, null, null, null, false, mounts, null, null, null, null, null, null, false,
                false, false, null, tmpfs, 0, null, 0, 0, 0, 0, null, null);
    }

    private static HostConfig binds(String... binds) {
        return host(List.of(binds), null, null);
    }

    private static HostConfig mounts(MountRequest... mounts) {
        return host(null, List.of(mounts), null);
    }

    private MountPlanner.Plan plan(HostConfig config) throws IOException {
        return planner.plan(config, null, rootfs);
    }

    @Test
    void bindsInEverySyntax() throws IOException {
        String h = host.toString();
        MountPlanner.Plan plan = plan(binds(h + ":/a", h + ":/b:ro", h + ":/c:ro,Z", h + "/:/d/:rshared",
                h + ":/e:rw,z,rslave,delegated"));
        assertEquals(List.of(
                new Mount("/a", "bind", h, List.of("rbind", "rprivate", "rw")),
                new Mount("/b", "bind", h, List.of("rbind", "rprivate", "ro")),
                new Mount("/c", "bind", h, List.of("rbind", "rprivate", "ro")),
                new Mount("/d", "bind", h, List.of("rbind", "rshared", "rw")),
                new Mount("/e", "bind", h, List.of("rbind", "rslave", "rw"))), plan.mounts());
        assertEquals(new MountPoint("bind", null, h, "/a", null, "", true, "rprivate"), plan.mountPoints().get(0));
        assertEquals(new MountPoint("bind", null, h, "/c", null, "ro,Z", false, "rprivate"), plan.mountPoints().get(2));
        assertEquals(new MountPoint("bind", null, h, "/d", null, "rshared", true, "rshared"), plan.mountPoints().get(3));
        assertEquals(List.of(), plan.createdVolumes());
    }

    @Test
    void missingBindSourceOfMinusVIsCreated() throws IOException {
        Path missing = host.resolve("new/dir");
        MountPlanner.Plan plan = plan(binds(missing + ":/x"));
        assertTrue(Files.isDirectory(missing));
        assertEquals("/x", plan.mounts().get(0).destination());
    }

    @Test
    void namedAndAnonymousVolumes() throws IOException {
        volumes.create("existing", null, null);
        MountPlanner.Plan plan = plan(binds("data:/data", "existing:/old:ro", "/anon", "nc:/nc:nocopy"));
        String anonymous = plan.mountPoints().get(2).name();
        assertTrue(anonymous.matches("[0-9a-f]{64}"));
        assertEquals(List.of("data", anonymous, "nc"), plan.createdVolumes());
        assertEquals(List.of("data", "existing", anonymous, "nc"), plan.volumes());
        String data = volumes.dataDirectory("data").toString();
        assertEquals(new MountPoint("volume", "data", data, "/data", "local", "z", true, ""), plan.mountPoints().get(0));
        assertEquals(new MountPoint("volume", "existing", volumes.dataDirectory("existing").toString(), "/old",
                "local", "ro", false, ""), plan.mountPoints().get(1));
        assertEquals(new Mount("/data", "bind", data, List.of("rbind", "rprivate", "rw")), plan.mounts().get(0));
        assertTrue(volumes.isAnonymous(anonymous));

        planner.undo(plan);
        assertEquals(List.of("existing"), volumes.list().stream().map(Volume::name).toList(),
                "undo removes only what the plan created");
    }

    @Test
    void mountsOfEveryType() throws IOException {
        MountPlanner.Plan plan = plan(mounts(
                new MountRequest("bind", host.toString(), "/b", true, null, null),
                new MountRequest("volume", "", "/anon", false, null, null),
                new MountRequest("volume", "labelled", "/l", false, new VolumeOptions(true, Map.of("k", "v")), null),
                new MountRequest("tmpfs", null, "/t", false, null, new TmpfsOptions(64L << 20, 01770)),
                new MountRequest("tmpfs", "", "/t2", true, null, new TmpfsOptions(1000, 0))));
        assertEquals(new Mount("/b", "bind", host.toString(), List.of("rbind", "rprivate", "ro")), plan.mounts().get(0));
        assertEquals(new MountPoint("bind", null, host.toString(), "/b", null, "", false, "rprivate"),
                plan.mountPoints().get(0));
        assertEquals(Map.of("k", "v"), volumes.inspect("labelled").labels());
        assertEquals(new MountPoint("volume", "labelled", volumes.dataDirectory("labelled").toString(), "/l", "local",
                "", true, ""), plan.mountPoints().get(2));
        assertEquals(new Mount("/t", "tmpfs", "tmpfs", List.of("noexec", "nosuid", "nodev", "rprivate", "mode=1770",
                "size=64m")), plan.mounts().get(3));
        assertEquals(new Mount("/t2", "tmpfs", "tmpfs", List.of("noexec", "nosuid", "nodev", "rprivate", "ro",
                "size=1000")), plan.mounts().get(4));
        assertEquals(new MountPoint("tmpfs", null, "", "/t2", null, "", false, ""), plan.mountPoints().get(4),
                "--mount type=tmpfs is listed, unlike --tmpfs");
    }

    @Test
    void tmpfsMapOptionsOverrideDockersDefaults() throws IOException {
        MountPlanner.Plan plan = plan(host(null, null, Map.of("/run", "rw,size=64m,exec", "/tmp", "")));
        assertEquals(List.of(
                new Mount("/run", "tmpfs", "tmpfs", List.of("nosuid", "nodev", "rprivate", "rw", "size=64m", "exec")),
                new Mount("/tmp", "tmpfs", "tmpfs", List.of("noexec", "nosuid", "nodev", "rprivate"))), plan.mounts());
        assertEquals(List.of(), plan.mountPoints(), "--tmpfs mounts are not in inspect's Mounts, as in Docker");
    }

    @Test
    void imageVolumesBecomeAnonymousUnlessSomethingIsMountedThere() throws IOException {
        MountPlanner.Plan plan = planner.plan(
                host(List.of(host + ":/covered"), null, Map.of("/tmpfs-covered", "")),
                List.of("/covered", "/var/lib/data/", "/tmpfs-covered", "/srv"), rootfs);
        assertEquals(List.of("/covered", "/tmpfs-covered", "/srv", "/var/lib/data"),
                plan.mounts().stream().map(Mount::destination).toList());
        List<MountPoint> anonymous = plan.mountPoints().stream().filter(m -> m.type().equals("volume")).toList();
        assertEquals(List.of("/srv", "/var/lib/data"), anonymous.stream().map(MountPoint::destination).toList());
        assertEquals(anonymous.stream().map(MountPoint::name).toList(), plan.createdVolumes());
    }

    @Test
    void parentsAreMountedBeforeChildren() throws IOException {
        MountPlanner.Plan plan = plan(host(List.of(host + ":/a/b/c", host + ":/a"),
                List.of(new MountRequest("tmpfs", null, "/a/b", false, null, null)), Map.of("/z", "")));
        assertEquals(List.of("/a", "/z", "/a/b", "/a/b/c"), plan.mounts().stream().map(Mount::destination).toList());
    }

    @Test
    void badInputIsRefusedWithDockersMessageAndCreatesNothing() throws IOException {
        String h = host.toString();
        Map<HostConfig, String> cases = new java.util.LinkedHashMap<>();
        cases.put(binds(h + ":ctr"), "invalid volume specification: '" + h + ":ctr': invalid mount config for type"
                + " \"bind\": invalid mount path: 'ctr' mount path must be absolute");
        cases.put(binds("ctr"), "invalid volume specification: 'ctr': invalid mount config for type \"volume\":"
                + " invalid mount path: 'ctr' mount path must be absolute");
        cases.put(binds("vol:data"), "invalid volume specification: 'vol:data': invalid mount config for type"
                + " \"volume\": invalid mount path: 'data' mount path must be absolute");
        cases.put(binds(h + ":/"), "invalid volume specification: '" + h + ":/': invalid mount config for type"
                + " \"bind\": invalid specification: destination can't be '/'");
        cases.put(binds("/x:rw"), "invalid volume specification: '/x:rw'");
        cases.put(binds("a:/b:c:d"), "invalid volume specification: 'a:/b:c:d'");
        cases.put(binds(":/b"), "invalid volume specification: ':/b'");
        cases.put(binds(h + "::ro"), "invalid volume specification: '" + h + "::ro': invalid mount config for type"
                + " \"bind\": field Target must not be empty");
        cases.put(binds(h + ":/x:rx"), "invalid mode: rx");
        cases.put(binds(h + ":/x:ro,rw"), "invalid mode: ro,rw");
        cases.put(binds(h + ":/x:nocopy"), "invalid volume specification: '" + h + ":/x:nocopy': invalid mount"
                + " config for type \"bind\": field VolumeOptions must not be specified");
        cases.put(binds("v1:/x:rshared"), "invalid volume specification: 'v1:/x:rshared': invalid mount config for"
                + " type \"volume\": field BindOptions must not be specified");
        cases.put(mounts(new MountRequest("volume", "", "/x", true, null, null)),
                "invalid mount config for type \"volume\": must not set ReadOnly mode when using anonymous volumes");
        cases.put(mounts(new MountRequest("tmpfs", null, "/", false, null, null)),
                "invalid mount config for type \"tmpfs\": invalid specification: destination can't be '/'");
        cases.put(host(null, null, Map.of("/", "")), "invalid specification: destination can't be '/'");
        cases.put(binds("a!b:/x"), "\"a!b\" includes invalid characters for a local volume name, only"
                + " \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use"
                + " absolute path");
        cases.put(binds("v1:/x", h + ":/x/"), "Duplicate mount point: /x");
        cases.put(host(List.of("v1:/x"), List.of(new MountRequest("tmpfs", null, "/x", false, null, null)), null),
                "Duplicate mount point: /x");
        cases.put(host(List.of("v1:/y"), null, Map.of("/y/.", "")), "Duplicate mount point: /y");
        cases.put(mounts(new MountRequest("bind", "/no/such/dir", "/x", false, null, null)),
                "invalid mount config for type \"bind\": bind source path does not exist: /no/such/dir");
        cases.put(mounts(new MountRequest("bind", "rel", "/x", false, null, null)),
                "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute");
        cases.put(mounts(new MountRequest("bind", "", "/x", false, null, null)),
                "invalid mount config for type \"bind\": field Source must not be empty");
        cases.put(mounts(new MountRequest("volume", "v1", "rel", false, null, null)),
                "invalid mount config for type \"volume\": invalid mount path: 'rel' mount path must be absolute");
        cases.put(mounts(new MountRequest("volume", "v1", "", false, null, null)),
                "invalid mount config for type \"volume\": field Target must not be empty");
        cases.put(mounts(new MountRequest("tmpfs", "src", "/t", false, null, null)),
                "invalid mount config for type \"tmpfs\": field Source must not be specified");
        cases.put(mounts(new MountRequest("bind", h, "/t", false, new VolumeOptions(true, null), null)),
                "invalid mount config for type \"bind\": field VolumeOptions must not be specified");
        cases.put(mounts(new MountRequest("volume", "v1", "/t", false, null, new TmpfsOptions(1, 0))),
                "invalid mount config for type \"volume\": field TmpfsOptions must not be specified");
        cases.put(mounts(new MountRequest("npipe", "x", "/t", false, null, null)),
                "invalid mount config for type \"npipe\": mount type unknown");
        cases.put(host(null, null, Map.of("rel", "")), "invalid mount path: 'rel' mount path must be absolute");
        cases.put(host(null, null, Map.of("/t", "size=1m,bogus")), "invalid tmpfs option [\"bogus\"]");
        cases.put(host(null, null, Map.of("/t", "colour=red")), "invalid tmpfs option [\"colour\" \"red\"]");
        // A valid volume before the bad one is not created either: checks come first.
        cases.put(binds("v1:/ok", h + "/missing-too:/also-ok", "/bad:rel"), "invalid volume specification:"
                + " '/bad:rel': invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be"
                + " absolute");
        for (Map.Entry<HostConfig, String> c : cases.entrySet()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> plan(c.getKey()),
                    c.getValue());
            assertEquals(c.getValue(), e.getMessage());
        }
        assertFalse(Files.exists(host.resolve("missing-too")));
        assertEquals(0, volumes.list().size());
    }

    // --- copy-up --------------------------------------------------------------------------------

    private Path imageDataDir() throws IOException {
        Path data = Files.createDirectories(rootfs.resolve("data/sub"));
        Files.writeString(data.resolve("file"), "content");
        Files.setPosixFilePermissions(data.resolve("file"), PosixFilePermissions.fromString("rw-r-----"));
        Files.setAttribute(data.resolve("file"), "unix:uid", 1234, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(data.resolve("file"), "unix:gid", 5678, LinkOption.NOFOLLOW_LINKS);
        Files.createSymbolicLink(rootfs.resolve("data/link"), Path.of("/etc/passwd"));
        Files.createLink(rootfs.resolve("data/hard"), data.resolve("file"));
        Commands.check(List.of("setfattr", "-n", "user.origin", "-v", "image", data.resolve("file").toString()),
                null, Duration.ofSeconds(10));
        Files.setAttribute(rootfs.resolve("data"), "unix:uid", 42);
        Files.setPosixFilePermissions(rootfs.resolve("data"), PosixFilePermissions.fromString("rwxr-x---"));
        return rootfs.resolve("data");
    }

    @Test
    void newEmptyVolumesGetTheImagesContent() throws IOException {
        imageDataDir();
        MountPlanner.Plan plan = planner.plan(binds("named:/data"), List.of("/data/sub"), rootfs);
        Path volume = volumes.dataDirectory("named");
        Path file = volume.resolve("sub/file");
        assertEquals("content", Files.readString(file));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals(1234, Files.getAttribute(file, "unix:uid"));
        assertEquals(5678, Files.getAttribute(file, "unix:gid"));
        assertEquals(Path.of("/etc/passwd"), Files.readSymbolicLink(volume.resolve("link")));
        assertEquals(Files.getAttribute(file, "unix:ino"), Files.getAttribute(volume.resolve("hard"), "unix:ino"));
        assertEquals("image", Commands.check(List.of("getfattr", "--only-values", "-n", "user.origin", file.toString()),
                null, Duration.ofSeconds(10)));
        assertEquals(42, Files.getAttribute(volume, "unix:uid"), "the directory's own owner");
        assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(volume)));
        // The image's VOLUME /data/sub gets its own anonymous volume, filled from the image as well.
        String anonymous = plan.createdVolumes().get(1);
        assertEquals("content", Files.readString(volumes.dataDirectory(anonymous).resolve("file")));
    }

    @Test
    void nocopyAndNonEmptyVolumesAreLeftAlone() throws IOException {
        imageDataDir();
        Path kept = volumes.dataDirectory(volumes.create("full", null, null).name());
        Files.writeString(kept.resolve("mine"), "mine");
        planner.plan(host(List.of("full:/data", "empty:/data/sub:nocopy"),
                List.of(new MountRequest("volume", "", "/data/x", false, new VolumeOptions(true, null), null)), null),
                null, rootfs);
        try (var names = Files.list(kept)) {
            assertEquals(List.of("mine"), names.map(p -> p.getFileName().toString()).toList());
        }
        try (var names = Files.list(volumes.dataDirectory("empty"))) {
            assertEquals(0, names.count());
        }
    }

    @Test
    void copyUpResolvesTheImagePathInsideTheRootfs() throws IOException {
        // /srv in the image is a link to /etc: the rootfs' /etc, never the host's.
        Files.createDirectories(rootfs.resolve("etc"));
        Files.writeString(rootfs.resolve("etc/from-image"), "image");
        Files.createSymbolicLink(rootfs.resolve("srv"), Path.of("/etc"));
        Files.createSymbolicLink(rootfs.resolve("up"), Path.of("../../../../../../../etc"));
        planner.plan(binds("srv:/srv", "up:/up"), null, rootfs);
        for (String name : List.of("srv", "up")) {
            try (var names = Files.list(volumes.dataDirectory(name))) {
                assertEquals(List.of("from-image"), names.map(p -> p.getFileName().toString()).toList(), name);
            }
        }
    }
}
