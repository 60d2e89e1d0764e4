package io.berth.runtime.oci;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;

/** Makes a {@link ConmonRuntime} for a runtime binary on this host. */
public final class OciRuntimes {

    /** Where Debian installs conmon. */
    static final List<String> SEARCH_PATH = List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin",
            "/sbin", "/bin", "/usr/libexec/podman");

    private OciRuntimes() {
    }

    /**
     * A runtime named {@code name} running {@code binary}, keeping its state in {@code <dataRoot>/runtime/<name>/}
     * and its sockets and the runtime's own state in {@code <runRoot>/}. crun on a hybrid cgroup host creates
     * containers through the {@code crun-hybrid.sh} wrapper.
     */
    public static ConmonRuntime create(String name, Path binary, Path dataRoot, Path runRoot) throws IOException {
        Path runDir = Files.createDirectories(runRoot);
        Path createRuntime = binary;
        if (binary.getFileName().toString().contains("crun") && CgroupLayout.detect() == CgroupLayout.HYBRID) {
            createRuntime = writeWrapper(binary, runDir.resolve("crun-hybrid"));
        }
        Path conmon = find("conmon").orElse(Path.of("/usr/bin/conmon"));
        return new ConmonRuntime(name, binary, createRuntime, conmon, dataRoot.resolve("runtime").resolve(name),
                runDir, OciSpecWriter.forHost());
    }

    /** The binary called {@code name} on the usual search path. */
    public static Optional<Path> find(String name) {
        return SEARCH_PATH.stream().map(dir -> Path.of(dir, name)).filter(Files::isExecutable).findFirst();
    }

    /** The default runtime on this host's cgroup layout. */
    public static String defaultRuntime() {
        return CgroupLayout.defaultRuntime();
    }

    private static Path writeWrapper(Path crun, Path wrapper) throws IOException {
        String script;
        try (InputStream in = OciRuntimes.class.getResourceAsStream("crun-hybrid.sh")) {
            script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (crun.toString().contains("'")) {
            throw new IOException("crun's path must not contain a quote: " + crun);
        }
        Path temp = Files.createTempFile(wrapper.getParent(), ".crun-hybrid", "");
        Files.writeString(temp, script.replace("@CRUN@", crun.toString()));
        Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rwxr-xr-x"));
        return Files.move(temp, wrapper, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
