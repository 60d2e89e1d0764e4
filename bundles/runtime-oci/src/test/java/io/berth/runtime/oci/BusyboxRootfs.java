package io.berth.runtime.oci;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A root filesystem made of busybox-static and its applet links, with a user {@code app} (1000) and groups. */
final class BusyboxRootfs {

    static final Path BUSYBOX = Path.of("/bin/busybox");
    private static List<String> applets;

    private BusyboxRootfs() {
    }

    static Path create(Path dir) throws IOException, InterruptedException {
        Files.createDirectories(dir.resolve("bin"));
        Files.copy(BUSYBOX, dir.resolve("bin/busybox"), StandardCopyOption.COPY_ATTRIBUTES);
        for (String applet : applets()) {
            Path link = dir.resolve("bin").resolve(applet);
            if (!Files.exists(link)) {
                Files.createSymbolicLink(link, Path.of("busybox"));
            }
        }
        for (String sub : List.of("etc", "tmp", "proc", "sys", "dev", "root", "home/app")) {
            Files.createDirectories(dir.resolve(sub));
        }
        Files.writeString(dir.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n"
                + "app:x:1000:1000:app:/home/app:/bin/sh\n");
        Files.writeString(dir.resolve("etc/group"), "root:x:0:\napp:x:1000:\nstaff:x:50:app\n");
        return dir;
    }

    private static synchronized List<String> applets() throws IOException, InterruptedException {
        if (applets == null) {
            Process list = new ProcessBuilder(BUSYBOX.toString(), "--list").redirectErrorStream(true).start();
            String text = new String(list.getInputStream().readAllBytes());
            if (!list.waitFor(30, TimeUnit.SECONDS) || list.exitValue() != 0) {
                throw new IOException("busybox --list failed: " + text);
            }
            applets = text.lines().filter(s -> !s.isBlank() && !s.contains("/")).toList();
        }
        return applets;
    }
}
