package io.berth.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import io.berth.spi.driver.Driver;
import io.berth.spi.runtime.Attachment;
import io.berth.spi.runtime.ContainerIo;
import io.berth.spi.runtime.ContainerRuntime;
import io.berth.spi.runtime.ExecProcess;
import io.berth.spi.runtime.ExecSpec;
import io.berth.spi.runtime.RuntimeSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import javax.inject.Inject;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

/**
 * The runtime-oci bundle as it ships: its runtimes registered in Felix, and a container run, attached to and
 * exec'd into from inside the framework, where the embedded jnr-ffi must load its native library.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ContainerRuntimeIT {

    @Inject
    private BundleContext context;

    @Configuration
    public Option[] configuration() throws IOException {
        Path distribution = DistributionBundles.distribution();
        // a short root: the attach socket links live under its exec-root
        Path root = Files.createTempDirectory(Path.of("/tmp"), "brit");
        return DistributionBundles.frameworkLike(distribution, root).toArray(new Option[0]);
    }

    private Map<String, ServiceReference<ContainerRuntime>> runtimes() {
        Collection<ServiceReference<ContainerRuntime>> refs;
        try {
            refs = context.getServiceReferences(ContainerRuntime.class, null);
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        Map<String, ServiceReference<ContainerRuntime>> byName = new TreeMap<>();
        refs.forEach(ref -> byName.put((String) ref.getProperty(Driver.NAME), ref));
        return byName;
    }

    @Test
    public void runcAndCrunAreRegisteredAndTheDefaultFitsTheHost() throws Exception {
        Map<String, ServiceReference<ContainerRuntime>> runtimes = Await.until("runc and crun", this::runtimes, r -> r.size() == 2, () -> runtimes().keySet().toString());
        assertEquals(List.of("crun", "runc"), List.copyOf(runtimes.keySet()));
        for (ServiceReference<ContainerRuntime> ref : runtimes.values()) {
            assertEquals(ContainerRuntime.TYPE_RUNTIME, ref.getProperty(Driver.TYPE));
            assertTrue(context.getService(ref).status().isActive());
        }
        boolean unified = Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"));
        assertEquals(Boolean.TRUE, runtimes.get(unified ? "crun" : "runc").getProperty(ContainerRuntime.DEFAULT_RUNTIME));
        assertEquals(Boolean.FALSE, runtimes.get(unified ? "runc" : "crun").getProperty(ContainerRuntime.DEFAULT_RUNTIME));
    }

    @Test
    public void aContainerRunsAndIsAttachedToAndExecdIntoFromInsideTheFramework() throws Exception {
        ContainerRuntime runtime = context.getService(Await.until("runc and crun", this::runtimes, r -> r.size() == 2, () -> runtimes().keySet().toString()).get("runc"));
        Path root = Path.of(System.getProperty("berth.itest.root"));
        Path rootfs = busyboxRootfs(root.resolve("rootfs"));
        String id = "itest-" + Long.toHexString(System.nanoTime());
        RuntimeSpec spec = new RuntimeSpec(rootfs, false, new RuntimeSpec.Process(
                List.of("sh", "-c", "echo ready; while read line; do echo got $line; done"), List.of(), "", "", false,
                false, List.of(), List.of()), "itest", "", List.of(), RuntimeSpec.Resources.NONE, null, false, null,
                List.of(), List.of(), List.of(), List.of(), Map.of(), 0);
        Path log = root.resolve("logs").resolve(id + ".log");
        runtime.create(id, spec, new ContainerIo(log, 0, true));
        try {
            runtime.start(id);
            Await.until("the container's first line", () -> text(log), t -> t.contains("ready"), () -> text(log));
            ExecProcess tty = runtime.exec(id, new ExecSpec(new RuntimeSpec.Process(List.of("sh", "-c", "tty"),
                    List.of(), "", "", true, false, List.of(), List.of()), false));
            assertTrue(read(tty).startsWith("/dev/pts/"));
            assertEquals(0, tty.waitFor());
            try (Attachment attachment = runtime.attach(id)) {
                attachment.stdin().write("hello\n".getBytes(StandardCharsets.UTF_8));
                attachment.stdin().close();
                assertEquals("got hello\n", read(attachment));
            }
            assertEquals(0, runtime.exit(id).get(60, TimeUnit.SECONDS).exitCode());
        } finally {
            runtime.delete(id, true);
        }
        assertNotNull(runtime.status());
    }

    private static String text(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static String read(Attachment attachment) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Attachment.Output chunk; (chunk = attachment.read()) != null; ) {
            out.write(chunk.data());
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static Path busyboxRootfs(Path dir) throws Exception {
        Files.createDirectories(dir.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), dir.resolve("bin/busybox"), StandardCopyOption.COPY_ATTRIBUTES);
        for (String applet : List.of("sh", "echo", "tty", "cat")) {
            Files.createSymbolicLink(dir.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        for (String sub : List.of("etc", "proc", "sys", "dev", "tmp")) {
            Files.createDirectories(dir.resolve(sub));
        }
        return dir;
    }
}
