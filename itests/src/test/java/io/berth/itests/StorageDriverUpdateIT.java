package io.berth.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotSame;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import io.berth.spi.driver.Driver;
import io.berth.spi.images.Layer;
import io.berth.spi.images.LayerStore;
import io.berth.spi.storage.StorageDriver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.stream.Stream;
import javax.inject.Inject;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.Version;

/**
 * Live upgrade of a storage driver: layers are mounted through overlay2, the
 * overlay2 bundle is updated to a newer build, and the mounts keep working
 * and belong to the new driver instance.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class StorageDriverUpdateIT {

    @Inject
    private BundleContext context;

    @Configuration
    public Option[] configuration() throws IOException {
        Path distribution = DistributionBundles.distribution();
        List<Option> options = DistributionBundles.frameworkLike(distribution, Files.createTempDirectory("berth-itest-update-"));
        options.add(systemProperty("berth.itest.overlay.jar").value(overlayJar(distribution).toString()));
        return options.toArray(new Option[0]);
    }

    private static Path overlayJar(Path distribution) throws IOException {
        try (Stream<Path> jars = Files.list(distribution.resolve("system/20"))) {
            return jars.filter(jar -> jar.getFileName().toString().startsWith("storage-overlayfs-")).findFirst()
                    .orElseThrow(() -> new IOException("no overlay2 bundle in " + distribution.resolve("system/20")));
        }
    }

    @Test
    public void mountsSurviveAnUpdateOfTheOverlayBundleAndBelongToTheNewInstance() throws Exception {
        StorageDriver before = overlay();
        assertTrue("overlay2 is active here: " + before.status(), before.status().isActive());
        before.create("base", null);
        Path baseView = before.get("base");
        Files.writeString(baseView.resolve("from-base"), "base");
        before.put("base");
        before.createReadWrite("container", "base");
        Path mounted = before.get("container");
        Files.writeString(mounted.resolve("before-update"), "written before");
        assertTrue(isMountPoint(mounted));

        Bundle bundle = bundleOf("io.berth.storage-overlayfs");
        Version oldVersion = bundle.getVersion();
        Path newer = Path.of(System.getProperty("berth.itest.root"), "storage-overlayfs-newer.jar");
        TestBundles.withVersion(Path.of(System.getProperty("berth.itest.overlay.jar")), newer, nextVersion(oldVersion).toString());
        try (InputStream in = Files.newInputStream(newer)) {
            bundle.update(in);
        }
        assertTrue("updated to a newer version", bundle.getVersion().compareTo(oldVersion) > 0);

        StorageDriver after = Await.until("the new overlay2 instance", this::overlayOrNull,
                driver -> driver != null && driver != before, () -> "not registered");
        assertNotSame(before, after);
        // The container's mount was never taken down: it reads and writes as before.
        assertTrue("still mounted", isMountPoint(mounted));
        assertEquals("written before", Files.readString(mounted.resolve("before-update")));
        assertEquals("base", Files.readString(mounted.resolve("from-base")));
        Files.writeString(mounted.resolve("after-update"), "written after");
        // The new instance owns it: another get shares the mount, and the last put unmounts it.
        assertEquals(mounted, after.get("container"));
        after.put("container");
        assertTrue(isMountPoint(mounted));
        after.put("container");
        assertFalse("the new instance unmounted it", isMountPoint(mounted));
        assertEquals("written after", read(after, "container", "after-update"));
        after.remove("container");
        after.remove("base");
    }

    @Test
    public void theLayerStoreSwitchesDriversAtRuntimeAndMigratesLayers() throws Exception {
        LayerStore store = service(LayerStore.class);
        store.useDriver("overlay2");
        Layer base = store.register(new ByteArrayInputStream(tar("etc/base", "base")), null);
        Layer child = store.register(new ByteArrayInputStream(tar("etc/child", "child")), base.chainId());
        assertEquals("overlay2", base.driver());
        assertEquals("overlay2", child.driver());

        String output = gogo("berth:storage-use vfs") + gogo("berth:storage-migrate vfs") + gogo("berth:layers");
        assertTrue(output, output.contains("moved 2 layer(s) to storage driver vfs"));
        assertTrue(output, output.contains("New layers go to: vfs"));
        for (Layer layer : store.layers()) {
            assertEquals(layer.chainId(), "vfs", layer.driver());
        }
        Layer third = store.register(new ByteArrayInputStream(tar("etc/third", "third")), child.chainId());
        assertEquals("vfs", third.driver());
        store.release(third.chainId());
        store.release(child.chainId());
        store.release(base.chainId());
        assertTrue(store.layers().isEmpty());
    }

    private String gogo(String command) throws Exception {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.PrintStream print = new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8);
        CommandSession session = service(CommandProcessor.class).createSession(InputStream.nullInputStream(), print, print);
        try {
            session.execute(command);
        } finally {
            session.close();
        }
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    private <T> T service(Class<T> type) {
        ServiceReference<T> ref = context.getServiceReference(type);
        if (ref == null) {
            throw new AssertionError("no " + type.getName() + " service");
        }
        return context.getService(ref);
    }

    private static byte[] tar(String name, String content) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            byte[] data = content.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            TarArchiveEntry entry = new TarArchiveEntry(name);
            entry.setSize(data.length);
            tar.putArchiveEntry(entry);
            tar.write(data);
            tar.closeArchiveEntry();
        }
        return bytes.toByteArray();
    }

    private StorageDriver overlay() {
        StorageDriver driver = overlayOrNull();
        if (driver == null) {
            throw new AssertionError("no overlay2 storage driver registered");
        }
        return driver;
    }

    private StorageDriver overlayOrNull() {
        try {
            Collection<ServiceReference<StorageDriver>> refs = context.getServiceReferences(StorageDriver.class,
                    "(" + Driver.NAME + "=overlay2)");
            return refs.isEmpty() ? null : context.getService(refs.iterator().next());
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private Bundle bundleOf(String symbolicName) {
        return Arrays.stream(context.getBundles()).filter(b -> symbolicName.equals(b.getSymbolicName())).findFirst()
                .orElseThrow(() -> new AssertionError(symbolicName + " is not installed"));
    }

    private static String read(StorageDriver driver, String id, String file) throws IOException {
        Path view = driver.get(id);
        try {
            return Files.readString(view.resolve(file));
        } finally {
            driver.put(id);
        }
    }

    private static boolean isMountPoint(Path path) throws IOException {
        String wanted = path.toAbsolutePath().normalize().toString();
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .map(line -> line.split(" ")[4]).anyMatch(wanted::equals);
    }

    private static Version nextVersion(Version version) {
        return new Version(version.getMajor(), version.getMinor(), version.getMicro() + 1, "itest");
    }

}
