package io.berth.storage.testsuite;

import io.berth.spi.storage.StorageCapability;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** A layer with everything a layer can hold, and a child layer that changes it in every way. */
final class RichTree {

    private static final FileTime THEN = FileTime.from(Instant.parse("2020-02-02T02:02:02Z"));

    private RichTree() {
    }

    static void populateBase(Path root, Set<StorageCapability> capabilities) throws IOException {
        Files.createDirectories(root.resolve("bin"));
        Files.createDirectories(root.resolve("etc"));
        Files.createDirectories(root.resolve("tmp"));
        Files.setAttribute(root.resolve("tmp"), "unix:mode", 01777);
        Files.writeString(root.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        Files.writeString(root.resolve("etc/owned"), "owned by 1234:5678\n");
        Files.setAttribute(root.resolve("etc/owned"), "unix:uid", 1234);
        Files.setAttribute(root.resolve("etc/owned"), "unix:gid", 5678);
        Files.write(root.resolve("bin/tool"), new byte[] {0x7f, 'E', 'L', 'F', 0, 1, 2, 3});
        Files.setAttribute(root.resolve("bin/tool"), "unix:mode", 04755);
        Files.createLink(root.resolve("bin/hard"), root.resolve("bin/tool"));
        Files.createSymbolicLink(root.resolve("bin/link"), Path.of("tool"));
        Files.createSymbolicLink(root.resolve("etc/absolute"), Path.of("/etc/passwd"));
        Path deep = root.resolve("a".repeat(60)).resolve("b".repeat(60)).resolve("c".repeat(60));
        Files.createDirectories(deep);
        Files.writeString(deep.resolve("long-name-" + "d".repeat(80)), "long\n");
        Files.createDirectories(root.resolve("run"));
        run("mkfifo", root.resolve("run/fifo").toString());
        run("setfattr", "-n", "user.berth", "-v", "hello", root.resolve("etc/passwd").toString());
        Files.createDirectories(root.resolve("opq/sub"));
        Files.writeString(root.resolve("opq/sub/old"), "old");
        if (capabilities.contains(StorageCapability.PRIVILEGED_XATTRS)) {
            // A file capability (cap_net_bind_service=ep): binary, not valid UTF-8.
            run("setfattr", "-n", "security.capability", "-v", "0x0100000200040000000000000000000000000000",
                    root.resolve("bin/tool").toString());
        }
        if (capabilities.contains(StorageCapability.DEVICE_NODES)) {
            Files.createDirectories(root.resolve("dev"));
            run("mknod", "-m", "666", root.resolve("dev/null").toString(), "c", "1", "3");
        }
        // (Not the fifo: setting its time through Java opens it, which blocks until a writer comes.)
        for (String file : List.of("etc/passwd", "etc/owned", "bin/tool")) {
            Files.setLastModifiedTime(root.resolve(file), THEN);
        }
        Files.getFileAttributeView(root.resolve("bin/link"),
                java.nio.file.attribute.BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setTimes(THEN, null, null);
    }

    static void changeInChild(Path root) throws IOException {
        Files.writeString(root.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n");
        Files.setAttribute(root.resolve("etc/owned"), "unix:uid", 4321);
        Files.setAttribute(root.resolve("bin/tool"), "unix:mode", 0750);
        Files.delete(root.resolve("bin/link"));
        Files.delete(root.resolve("opq/sub/old"));
        Files.delete(root.resolve("opq/sub"));
        Files.createDirectories(root.resolve("opq/other"));
        Files.writeString(root.resolve("opq/other/new"), "new");
        Files.createDirectories(root.resolve("new"));
        Files.writeString(root.resolve("new/file"), "added\n");
        Files.setAttribute(root.resolve("new/file"), "unix:mode", 0600);
        Files.setLastModifiedTime(root.resolve("new/file"), THEN);
    }

    static void run(String... command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
