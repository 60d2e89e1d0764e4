package io.berth.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.berth.spi.images.Image;
import io.berth.spi.images.ImageStore;
import io.berth.spi.images.ImageUsers;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.inject.Inject;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

/**
 * The seam for issue 5's containers: an {@link ImageUsers} service registered in the framework (as the container
 * store will register one) keeps its image from rmi and prune in the image store of the distribution's bundles,
 * and lets it go when the service goes.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ImageUsersIT {

    private static final String CONTAINER = "0123456789ab".repeat(5) + "cdef";

    @Inject
    private BundleContext context;

    @Inject
    private ImageStore images;

    @Configuration
    public Option[] configuration() throws IOException {
        Path distribution = DistributionBundles.distribution();
        return DistributionBundles.frameworkLike(distribution, Files.createTempDirectory("berth-itest-"))
                .toArray(new Option[0]);
    }

    @Test
    public void aRegisteredImageUsersServiceKeepsItsImageUntilItGoes() throws Exception {
        Image image;
        Path tar = rootfs();
        try (InputStream rootfs = Files.newInputStream(tar)) {
            image = images.importImage(rootfs, "berth-itest/used:1", null, List.of("CMD [\"/bin/true\"]"));
        } finally {
            TestBundles.deleteTree(tar.getParent());
        }
        ImageUsers users = imageId -> imageId.equals(image.id())
                ? List.of(new ImageUsers.User(CONTAINER, true)) : List.of();
        ServiceRegistration<ImageUsers> registration = context.registerService(ImageUsers.class, users, null);
        try {
            IllegalStateException byName = assertThrows(IllegalStateException.class,
                    () -> images.remove("berth-itest/used:1", false));
            assertEquals("conflict: unable to remove repository reference \"berth-itest/used:1\" (must force) - container "
                    + CONTAINER.substring(0, 12) + " is using its referenced image " + image.id().substring(7, 19),
                    byName.getMessage());
            IllegalStateException byId = assertThrows(IllegalStateException.class,
                    () -> images.remove(image.id(), true));
            assertTrue(byId.getMessage(), byId.getMessage().contains("(cannot be forced) - image is being used by"
                    + " running container " + CONTAINER.substring(0, 12)));
            assertEquals(List.of(), images.prune(true).deleted());
            assertNotNull(images.find("berth-itest/used:1"));
            assertEquals(1, images.diskUsage().images().get(0).containers());
        } finally {
            registration.unregister();
        }
        assertTrue(images.remove("berth-itest/used:1", false).contains("Deleted: " + image.id()));
        assertNull(images.find(image.id()));
    }

    /** A rootfs tar written by GNU tar. */
    private static Path rootfs() throws Exception {
        Path dir = Files.createTempDirectory("berth-itest-rootfs-");
        Files.writeString(Files.createDirectories(dir.resolve("root/etc")).resolve("hostname"), "used\n");
        Path tar = dir.resolve("rootfs.tar");
        Process process = new ProcessBuilder("tar", "-C", dir.resolve("root").toString(), "-cf", tar.toString(), ".")
                .inheritIO().start();
        assertEquals(0, process.waitFor());
        return tar;
    }
}
