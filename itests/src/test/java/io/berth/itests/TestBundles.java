package io.berth.itests;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/** Writes small bundles (a manifest, optionally a few resources) for tests. */
final class TestBundles {

    private TestBundles() {
    }

    /** Writes the bundle next to {@code target} and moves it into place, so a watcher never sees half a jar. */
    static void write(Path target, String symbolicName, String version) throws IOException {
        write(target, symbolicName, version, Map.of());
    }

    /**
     * The same with extra manifest headers and entries (path to content),
     * e.g. a Declarative Services descriptor and its Service-Component header.
     */
    static void write(Path target, String symbolicName, String version, Map<String, String> headersAndEntries)
            throws IOException {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.putValue("Bundle-ManifestVersion", "2");
        main.putValue("Bundle-SymbolicName", symbolicName);
        main.putValue("Bundle-Version", version);
        main.putValue("Bundle-Name", "berth test bundle " + version);
        headersAndEntries.forEach((key, value) -> {
            if (!key.contains("/")) {
                main.putValue(key, value);
            }
        });
        Path temp = Files.createTempFile(target.getParent().getParent(), "bundle", ".tmp");
        try (OutputStream out = Files.newOutputStream(temp); JarOutputStream jar = new JarOutputStream(out, manifest)) {
            for (Map.Entry<String, String> entry : headersAndEntries.entrySet()) {
                if (entry.getKey().contains("/")) {
                    jar.putNextEntry(new JarEntry(entry.getKey()));
                    jar.write(entry.getValue().getBytes(StandardCharsets.UTF_8));
                    jar.closeEntry();
                }
            }
            jar.flush();
        }
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Removes a test directory and everything in it; best effort, for shutdown hooks. */
    static void deleteTree(Path root) {
        try (java.util.stream.Stream<Path> paths = Files.walk(root)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // nothing more to do while the JVM exits
        }
    }

    /** The same bundle with another Bundle-Version: what a newer build of it looks like to the framework. */
    static void withVersion(Path jar, Path target, String version) throws IOException {
        try (java.util.jar.JarInputStream in = new java.util.jar.JarInputStream(Files.newInputStream(jar))) {
            Manifest manifest = new Manifest(in.getManifest());
            manifest.getMainAttributes().putValue("Bundle-Version", version);
            Path temp = Files.createTempFile(target.getParent().getParent(), "bundle", ".tmp");
            try (OutputStream file = Files.newOutputStream(temp); JarOutputStream out = new JarOutputStream(file, manifest)) {
                for (JarEntry entry = in.getNextJarEntry(); entry != null; entry = in.getNextJarEntry()) {
                    out.putNextEntry(new JarEntry(entry.getName()));
                    in.transferTo(out);
                    out.closeEntry();
                }
            }
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
    }
}
