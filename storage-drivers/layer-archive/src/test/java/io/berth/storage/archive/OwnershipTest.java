package io.berth.storage.archive;

import static io.berth.storage.archive.Tars.dir;
import static io.berth.storage.archive.Tars.file;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Owners, groups and modes end up as the tar says, whatever the directory they land in does. */
class OwnershipTest {

    @TempDir
    Path temp;

    private static int attribute(Path path, String name) throws IOException {
        return (Integer) Files.getAttribute(path, "unix:" + name, LinkOption.NOFOLLOW_LINKS);
    }

    @Test
    void setgidDirectoriesDoNotLeakTheirGroupIntoEntries() throws IOException {
        Path layer = Files.createDirectories(temp.resolve("layer"));
        Files.createDirectories(layer.resolve("existing-sgid"));
        Files.setAttribute(layer.resolve("existing-sgid"), "unix:gid", 4242);
        Files.setAttribute(layer.resolve("existing-sgid"), "unix:mode", 02775);
        byte[] tar = Tars.of(
                dir("sg/", h -> {
                    h.setMode(02775);
                    h.setGroupId(5678);
                }),
                file("sg/inherits", "x", h -> h.setGroupId(5678)),
                file("sg/root-group", "x"),
                dir("sg/sub/"),
                file("existing-sgid/root-group", "x"),
                file("existing-sgid/own", "x", h -> {
                    h.setUserId(1234);
                    h.setGroupId(4242);
                }),
                file("implicit-parent/in-sgid/file", "x"));
        LayerTar.extract(new ByteArrayInputStream(tar), layer, WhiteoutFormat.OCI);
        assertEquals(5678, attribute(layer.resolve("sg"), "gid"));
        assertEquals(02775, attribute(layer.resolve("sg"), "mode") & 07777);
        assertEquals(5678, attribute(layer.resolve("sg/inherits"), "gid"));
        assertEquals(0, attribute(layer.resolve("sg/root-group"), "gid"));
        assertEquals(0, attribute(layer.resolve("sg/sub"), "gid"));
        assertEquals(0755, attribute(layer.resolve("sg/sub"), "mode") & 07777);
        assertEquals(0, attribute(layer.resolve("existing-sgid/root-group"), "gid"));
        assertEquals(1234, attribute(layer.resolve("existing-sgid/own"), "uid"));
        assertEquals(4242, attribute(layer.resolve("existing-sgid/own"), "gid"));
        assertEquals(0, attribute(layer.resolve("implicit-parent/in-sgid/file"), "gid"));
        assertEquals(0755, attribute(layer.resolve("implicit-parent"), "mode") & 07777);
    }

    @Test
    void aDirectoryEntryOverAnExistingDirectoryTakesItsOwnerAndMode() throws IOException {
        Path layer = Files.createDirectories(temp.resolve("layer"));
        Files.createDirectories(layer.resolve("etc"));
        Files.writeString(layer.resolve("etc/kept"), "kept");
        Files.setAttribute(layer.resolve("etc"), "unix:uid", 1234);
        Files.setAttribute(layer.resolve("etc"), "unix:mode", 0700);
        LayerTar.extract(new ByteArrayInputStream(Tars.of(dir("etc/"), dir("./", h -> h.setMode(0750)))), layer,
                WhiteoutFormat.OCI);
        assertEquals(0, attribute(layer.resolve("etc"), "uid"));
        assertEquals(0755, attribute(layer.resolve("etc"), "mode") & 07777);
        assertEquals("kept", Files.readString(layer.resolve("etc/kept")));
        assertEquals(0750, attribute(layer, "mode") & 07777, "a './' entry describes the root");
        assertEquals(Tars.THEN, Files.getLastModifiedTime(layer));
    }

    @Test
    void idsTooLargeForOctalRoundTrip() throws IOException {
        Path source = Files.createDirectories(temp.resolve("source"));
        Files.writeString(source.resolve("big-ids"), "x");
        Files.setAttribute(source.resolve("big-ids"), "unix:uid", 100_000_000);
        Files.setAttribute(source.resolve("big-ids"), "unix:gid", 200_000_000);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        LayerTar.write(source, out, WhiteoutFormat.OCI);
        Path target = Files.createDirectories(temp.resolve("target"));
        LayerTar.extract(new ByteArrayInputStream(out.toByteArray()), target, WhiteoutFormat.OCI);
        assertEquals(100_000_000, attribute(target.resolve("big-ids"), "uid"));
        assertEquals(200_000_000, attribute(target.resolve("big-ids"), "gid"));
    }

    @Test
    void theWholeStreamIsReadSoADigestCanBeChecked() throws IOException {
        byte[] tar = Tars.of(file("a", "x"));
        byte[] padded = java.util.Arrays.copyOf(tar, tar.length + 10_240);
        ByteArrayInputStream in = new ByteArrayInputStream(padded);
        LayerTar.extract(in, Files.createDirectories(temp.resolve("layer")), WhiteoutFormat.OCI);
        assertEquals(0, in.available());
    }
}
