package io.berth.itests;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.frameworkStartLevel;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.systemPackages;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

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

    /**
     * A framework like the kernel's: the distribution's bundles, SLF4J from the
     * class path through the system bundle, the berth framework properties
     * pointing into {@code root}, FileInstall on {@code root/deploy} polling
     * fast, and Gogo without a console. {@code root} is removed when the JVM exits.
     */
    static List<Option> frameworkLike(Path distribution, Path root) throws IOException {
        return frameworkLike(distribution, root, "none");
    }

    /**
     * @param defaultBridge the Linux bridge of the bridge driver's default network (its table is then
     *                      {@code berth_<bridge>}); never the daemon's {@code berth0}. {@code "none"}: the test leaves
     *                      no bridge and no table behind
     */
    static List<Option> frameworkLike(Path distribution, Path root, String defaultBridge) throws IOException {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> TestBundles.deleteTree(root)));
        Path deploy = Files.createDirectories(root.resolve("deploy"));
        String slf4j = System.getProperty("slf4j.version", "2.0.0");
        List<Option> options = new ArrayList<>(provision(distribution));
        options.add(junitBundles());
        options.add(systemPackages("org.slf4j;version=" + slf4j, "org.slf4j.spi;version=" + slf4j,
                "org.slf4j.event;version=" + slf4j, "org.slf4j.helpers;version=" + slf4j));
        options.add(frameworkStartLevel(highestStartLevel(distribution) + 10));
        options.add(frameworkProperty("berth.version").value("itest"));
        options.add(frameworkProperty("berth.data-root").value(root.resolve("data").toString()));
        options.add(frameworkProperty("berth.exec-root").value(root.resolve("exec").toString()));
        if ("berth0".equals(defaultBridge)) {
            throw new IllegalArgumentException("tests leave berth0 to the host's daemon: name another bridge");
        }
        options.add(frameworkProperty("berth.network.default-bridge").value(defaultBridge));
        options.add(frameworkProperty("berth.kernel.started").value(Long.toString(System.currentTimeMillis())));
        options.add(frameworkProperty("felix.fileinstall.dir").value(deploy.toString()));
        options.add(frameworkProperty("felix.fileinstall.poll").value("100"));
        options.add(frameworkProperty("felix.fileinstall.noInitialDelay").value("true"));
        options.add(frameworkProperty("felix.fileinstall.bundles.new.start").value("true"));
        options.add(frameworkProperty("gosh.args").value("--nointeractive --noshutdown"));
        options.add(frameworkProperty("gosh.home").value(distribution.toString()));
        options.add(systemProperty("berth.itest.root").value(root.toString()));
        return options;
    }

    static int highestStartLevel(Path distribution) throws IOException {
        try (Stream<Path> levels = Files.list(distribution.resolve("system"))) {
            return levels.filter(Files::isDirectory)
                    .mapToInt(level -> Integer.parseInt(level.getFileName().toString())).max().orElse(1);
        }
    }
}
