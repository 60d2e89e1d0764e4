package io.berth.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.berth.spi.containers.Container;
import io.berth.spi.containers.ContainerConfig;
import io.berth.spi.containers.ContainerService;
import io.berth.spi.containers.LogOptions;
import io.berth.spi.containers.LogReader;
import io.berth.spi.containers.WaitCondition;
import io.berth.spi.events.Event;
import io.berth.spi.events.Events;
import io.berth.spi.images.Image;
import io.berth.spi.images.ImageStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.inject.Inject;
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

/**
 * The containers bundle as it ships, with the runtime-oci bundle: a container created, run and logged through the
 * ContainerService from inside Felix, with events; its image kept from rmi; and a running container that outlives a
 * stop of the containers bundle and is managed again, same pid, by the instance that comes back.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ContainersIT {

    @Inject
    private BundleContext context;

    @Inject
    private ImageStore images;

    @Inject
    private Events events;

    @Configuration
    public Option[] configuration() throws IOException {
        Path distribution = DistributionBundles.distribution();
        // a short root: the runtime's attach socket links live under its exec-root
        Path root = Files.createTempDirectory(Path.of("/tmp"), "bcit");
        return DistributionBundles.frameworkLike(distribution, root).toArray(new Option[0]);
    }

    private ContainerService containers() throws InterruptedException {
        return Await.until("the container service", () -> {
            ServiceReference<ContainerService> ref = context.getServiceReference(ContainerService.class);
            return ref == null ? null : context.getService(ref);
        }, service -> service != null, () -> "not registered");
    }

    private static ContainerConfig config(String image, List<String> cmd) {
        return new ContainerConfig(null, null, null, false, false, false, null, false, false, false, null, cmd,
                image, null, null, null, null, null, null);
    }

    @Test
    public void aContainerRunsAndOutlivesAStopOfTheContainersBundle() throws Exception {
        Image image = busybox("berth-itest/busybox:1");
        List<Event> seen = new CopyOnWriteArrayList<>();
        AutoCloseable subscription = events.subscribe(0, e -> e.type().equals("container"), seen::add);
        ContainerService containers = containers();

        Container hello = containers.create("itest-hello", config(image.id(), List.of("echo", "hello")), null);
        assertTrue(containers.start(hello.id()));
        assertEquals(0, (int) containers.wait(hello.id(), WaitCondition.NOT_RUNNING).get(60, TimeUnit.SECONDS));
        try (LogReader log = containers.logs(hello.id(), LogOptions.ALL)) {
            assertEquals("hello\n", new String(log.next().data(), StandardCharsets.UTF_8));
        }
        containers.remove(hello.id(), false, false);
        Await.until("create, start, die, destroy", () -> seen.stream().map(Event::action).toList(),
                actions -> actions.containsAll(List.of("create", "start", "die", "destroy")), seen::toString);

        Container web = containers.create("itest-web", config("berth-itest/busybox:1",
                List.of("sh", "-c", "while true; do sleep 0.1; done")), null);
        containers.start(web.id());
        long pid = containers.inspect(web.id()).state().pid();
        IllegalStateException used = assertThrows(IllegalStateException.class,
                () -> images.remove(image.id(), true));
        assertTrue(used.getMessage(), used.getMessage().contains("(cannot be forced) - image is being used by running"
                + " container " + web.id().substring(0, 12)));
        Bundle bundle = bundle("io.berth.containers");
        bundle.stop();
        assertTrue("the container keeps running while the bundle is stopped", ProcessHandle.of(pid).isPresent());
        bundle.start();
        containers = containers();
        Container adopted = containers.inspect("itest-web");
        assertEquals("running", adopted.state().status());
        assertEquals(pid, adopted.state().pid());
        assertTrue(containers.stop("itest-web", 1));
        assertEquals(137, containers.inspect("itest-web").state().exitCode());
        containers.remove("itest-web", false, false);
        assertEquals(List.of(), containers.list(true));
        subscription.close();
        images.remove(image.id(), false);
    }

    private Bundle bundle(String symbolicName) {
        for (Bundle bundle : context.getBundles()) {
            if (bundle.getSymbolicName().equals(symbolicName)) {
                return bundle;
            }
        }
        throw new AssertionError("no bundle " + symbolicName);
    }

    /** A busybox image imported from a rootfs written by GNU tar. */
    private Image busybox(String name) throws Exception {
        Path dir = Files.createTempDirectory("berth-itest-busybox-");
        try {
            Path root = Files.createDirectories(dir.resolve("root"));
            Files.createDirectories(root.resolve("bin"));
            Files.copy(Path.of("/bin/busybox"), root.resolve("bin/busybox"), StandardCopyOption.COPY_ATTRIBUTES);
            for (String applet : List.of("sh", "echo", "sleep")) {
                Files.createSymbolicLink(root.resolve("bin").resolve(applet), Path.of("busybox"));
            }
            for (String sub : List.of("etc", "proc", "sys", "dev", "tmp")) {
                Files.createDirectories(root.resolve(sub));
            }
            Path tar = dir.resolve("rootfs.tar");
            Process process = new ProcessBuilder("tar", "-C", root.toString(), "-cf", tar.toString(), ".")
                    .inheritIO().start();
            assertEquals(0, process.waitFor());
            try (InputStream in = Files.newInputStream(tar)) {
                Image image = images.importImage(in, name, null, List.of("ENV PATH=/bin"));
                assertNotNull(image);
                return image;
            }
        } finally {
            TestBundles.deleteTree(dir);
        }
    }
}
