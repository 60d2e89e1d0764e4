package io.berth.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.startlevel.BundleStartLevel;

/**
 * Installs what a distribution boots: {@code system/<start level>/*.jar}.
 * The folder name is the start level, so a vendor composes a distribution by
 * putting jars in folders; bundles stop in the reverse order at shutdown.
 * Bundles are installed by reference (Felix reads them in place) because the
 * bundle cache is rebuilt at every start: what is in {@code system/} and
 * {@code deploy/} is what runs.
 */
final class SystemBundles {

    private SystemBundles() {
    }

    /** The highest start level in {@code system/}: where the framework must go when it starts. */
    static int highestLevel(Path systemDir) throws IOException {
        return levelDirectories(systemDir).stream()
                .mapToInt(dir -> Integer.parseInt(dir.getFileName().toString()))
                .max().orElse(1);
    }

    /** Installs every bundle with its start level and marks it to be started (fragments are only installed). */
    static void install(BundleContext context, Path systemDir) throws IOException, BundleException {
        for (Path levelDir : levelDirectories(systemDir)) {
            int level = Integer.parseInt(levelDir.getFileName().toString());
            for (Path jar : jars(levelDir)) {
                Bundle bundle = context.installBundle("reference:" + jar.toUri());
                bundle.adapt(BundleStartLevel.class).setStartLevel(level);
                if (bundle.getHeaders("").get(Constants.FRAGMENT_HOST) == null) {
                    bundle.start();
                }
            }
        }
    }

    private static List<Path> levelDirectories(Path systemDir) throws IOException {
        if (!Files.isDirectory(systemDir)) {
            throw new IOException("no system/ folder in the distribution at " + systemDir.getParent());
        }
        try (Stream<Path> entries = Files.list(systemDir)) {
            return entries.filter(Files::isDirectory)
                    .filter(dir -> dir.getFileName().toString().matches("[1-9][0-9]{0,3}"))
                    .sorted(Comparator.comparingInt(dir -> Integer.parseInt(dir.getFileName().toString())))
                    .toList();
        }
    }

    private static List<Path> jars(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return new ArrayList<>(entries.filter(file -> file.getFileName().toString().endsWith(".jar"))
                    .sorted().toList());
        }
    }
}
