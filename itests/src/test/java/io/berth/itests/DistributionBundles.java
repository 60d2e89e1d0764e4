package io.berth.itests;

import static org.ops4j.pax.exam.CoreOptions.bundle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.ops4j.pax.exam.Option;

/**
 * The bundles a built distribution boots ({@code system/<start level>/*.jar}),
 * as Pax Exam provisioning options: the tests run what ships, with no bundle
 * list or version of their own.
 */
final class DistributionBundles {

    private DistributionBundles() {
    }

    static Path distribution() {
        String path = System.getProperty("berth.distribution");
        if (path == null) {
            throw new IllegalStateException("system property berth.distribution is not set (run through Maven failsafe)");
        }
        Path dir = Path.of(path);
        if (!Files.isDirectory(dir.resolve("system"))) {
            throw new IllegalStateException("no built distribution at " + dir + "; run mvn package first");
        }
        return dir;
    }

    static List<Option> provision(Path distribution) throws IOException {
        List<Option> options = new ArrayList<>();
        try (Stream<Path> levels = Files.list(distribution.resolve("system"))) {
            for (Path level : levels.filter(Files::isDirectory).sorted(Comparator.comparing(Path::toString)).toList()) {
                int startLevel = Integer.parseInt(level.getFileName().toString());
                try (Stream<Path> jars = Files.list(level)) {
                    for (Path jar : jars.filter(j -> j.toString().endsWith(".jar")).sorted().toList()) {
                        options.add(bundle(jar.toUri().toString()).startLevel(startLevel).start());
                    }
                }
            }
        }
        return options;
    }

    static int highestStartLevel(Path distribution) throws IOException {
        try (Stream<Path> levels = Files.list(distribution.resolve("system"))) {
            return levels.filter(Files::isDirectory)
                    .mapToInt(level -> Integer.parseInt(level.getFileName().toString())).max().orElse(1);
        }
    }
}
