package io.berth.itests;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.registry.client.DockerRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of berthd in the middle of {@code berth:pull}: while layers download, and while they are
 * unpacked. The daemon restarted on the same data-root must show no trace of the pull (no image, no layer, no
 * blob, no temporary file) and pull the image again whole. The image (four gzip layers of 1,500 random files,
 * about 48 MB) is pushed into Debian's docker-registry by skopeo.
 */
class PullCrashIT {

    private static final int LAYERS = 4;
    private static final int FILES_PER_LAYER = 1500;
    private static final int FILE_SIZE = 8 * 1024;
    /** Bytes per second per connection through the throttling proxy: the download takes seconds, not a blink. */
    private static final int THROTTLE = 6 * 1024 * 1024;

    @TempDir
    static Path shared;

    private static DockerRegistry registry;
    private static String imageId;
    private static List<String> diffIds;

    @BeforeAll
    static void pushTheImage() throws Exception {
        registry = DockerRegistry.start(shared.resolve("registry"));
        Path layout = shared.resolve("layout");
        writeOciLayout(layout);
        Commands.Result copy = Commands.run("skopeo", "--insecure-policy", "copy", "--dest-tls-verify=false",
                "oci:" + layout + ":big", "docker://" + registry.address() + "/crash/big:1");
        assertEquals(0, copy.exitCode(), copy::toString);
    }

    @AfterAll
    static void stopRegistry() throws Exception {
        if (registry != null) {
            registry.close();
        }
    }

    @Test
    void killedWhileLayersDownload(@TempDir Path dir) throws Exception {
        try (ThrottlingProxy proxy = new ThrottlingProxy(registry.port(), THROTTLE)) {
            String ref = "127.0.0.1:" + proxy.port() + "/crash/big:1";
            Path data = dir.resolve("daemon/data");
            Path content = data.resolve("image/content");
            // One layer arrived whole and others are still arriving.
            crashWhile(dir, "vfs", ref, () -> count(content.resolve("blobs/sha256"), p -> size(p) > FILE_SIZE) >= 1
                    && count(content.resolve("ingest"), p -> size(p) > 0) >= 1);
            restartAndCheck(dir, "vfs", ref);
        }
    }

    @Test
    void killedWhileLayersAreUnpacked(@TempDir Path dir) throws Exception {
        String ref = registry.address() + "/crash/big:1";
        Path layers = dir.resolve("daemon/data/image/layers");
        // At least one layer registered, the image not yet: unpacking is under way.
        crashWhile(dir, "vfs", ref, () -> count(layers, p -> Files.exists(p.resolve("layer.json"))) >= 1);
        restartAndCheck(dir, "vfs", ref);
    }

    @Test
    void killedWhileLayersAreUnpackedAheadOnOverlay(@TempDir Path dir) throws Exception {
        String ref = registry.address() + "/crash/big:1";
        Path overlay = dir.resolve("daemon/data/overlay2");
        // overlay2 unpacks each layer as it arrives, out of order: some layer has content, the image is not done.
        crashWhile(dir, "overlay2", ref, () -> count(overlay, p -> count(p.resolve("diff"), file -> true) >= 1) >= 1);
        restartAndCheck(dir, "overlay2", ref);
    }

    /** Starts berthd, starts a pull, and kills berthd with SIGKILL as soon as {@code moment} holds. */
    private static void crashWhile(Path dir, String driver, String ref, BooleanSupplier moment) throws Exception {
        Path config = dir.resolve("daemon.json");
        Files.writeString(config, "{\"storage-driver\": \"" + driver + "\"}\n");
        BerthDaemon daemon = BerthDaemon.start(DistributionBundles.distribution(), dir.resolve("daemon"),
                "--config-file", config.toString());
        Process pull = null;
        try {
            pull = new ProcessBuilder(daemon.distribution.resolve("bin/berth-shell").toString(),
                    "-H", "unix://" + daemon.socket, "-c", "berth:pull " + ref)
                    .redirectErrorStream(true).redirectOutput(dir.resolve("pull.log").toFile()).start();
            long deadline = System.nanoTime() + Await.LIMIT.toNanos();
            while (!moment.getAsBoolean()) {
                assertTrue(pull.isAlive(), () -> "the pull ended before the moment to kill came:\n" + read(dir.resolve("pull.log")));
                assertTrue(System.nanoTime() < deadline, "the moment to kill never came");
                Thread.sleep(5);
            }
            daemon.process.destroyForcibly(); // SIGKILL: no shutdown hook, no cleanup
            assertTrue(daemon.process.waitFor(30, TimeUnit.SECONDS));
            assertTrue(pull.waitFor(60, TimeUnit.SECONDS), "berth-shell returns once the daemon is gone");
            assertNotEquals(0, pull.exitValue(), () -> read(dir.resolve("pull.log")));
        } finally {
            if (pull != null && pull.isAlive()) {
                pull.destroyForcibly().waitFor();
            }
            daemon.close();
        }
    }

    /** Restarts berthd on the same data-root: nothing of the pull is left, and pulling again gives the image. */
    private static void restartAndCheck(Path dir, String driver, String ref) throws Exception {
        Path config = dir.resolve("daemon.json");
        try (BerthDaemon daemon = BerthDaemon.start(DistributionBundles.distribution(), dir.resolve("daemon"),
                "--config-file", config.toString())) {
            Commands.Result images = daemon.shell("berth:images");
            assertEquals(0, images.exitCode(), images::toString);
            assertFalse(images.stdout().contains("crash/big"), images::toString);

            Path data = dir.resolve("daemon/data");
            Path content = data.resolve("image/content");
            List<Path> temporary;
            try (Stream<Path> all = Files.walk(data.resolve("image"))) {
                temporary = all.filter(p -> p.getFileName().toString().startsWith(".tmp-")).toList();
            }
            List<String> ingest = list(content.resolve("ingest"));
            List<String> blobs = list(content.resolve("blobs/sha256"));
            List<String> layers = layerRecords(data);
            List<String> unpacked = driverLayers(data, driver);
            assertAll("what the killed pull left; berthd log:\n" + daemon.logText(),
                    () -> assertEquals(List.of(), ingest, "unfinished blob writes are removed"),
                    () -> assertEquals(List.of(), blobs, "no blob of the killed pull is kept"),
                    () -> assertEquals(List.of(), layers, "no layer of the killed pull is registered"),
                    () -> assertEquals(List.of(), unpacked, "no unpacked layer is left in the driver"),
                    () -> assertEquals(List.of(), temporary, "no temporary file is left"));

            Commands.Result pull = daemon.shell("berth:pull " + ref);
            assertEquals(0, pull.exitCode(), pull::toString);
            assertTrue(pull.stdout().contains("Downloaded newer image for " + ref), pull::toString);
            Commands.Result inspect = daemon.shell("berth:images");
            assertTrue(inspect.stdout().lines().anyMatch(line -> line.contains("/crash/big")
                    && line.contains(imageId.substring(7, 19))), inspect::toString);
            Commands.Result layerList = daemon.shell("berth:layers");
            assertEquals(LAYERS, layerList.stdout().lines().filter(line -> line.matches("[0-9a-f]{12}\\s.*")).count(),
                    layerList::toString);
            assertTrue(layerList.stdout().contains(diffIds.get(0).substring(7, 19)), layerList::toString);

            // The references add up: removing the image removes every layer and blob.
            Commands.Result rmi = daemon.shell("berth:rmi " + ref);
            assertEquals(0, rmi.exitCode(), rmi::toString);
            assertEquals(List.of(), layerRecords(data), "every layer went with the image");
            assertEquals(List.of(), driverLayers(data, driver));
            assertEquals(List.of(), list(content.resolve("blobs/sha256")));
        }
    }

    // ---------------------------------------------------------------- the image

    /** An OCI image layout with one image, tagged {@code big}: {@value #LAYERS} gzip layers of random files. */
    private static void writeOciLayout(Path layout) throws IOException {
        Path blobs = Files.createDirectories(layout.resolve("blobs/sha256"));
        Random random = new Random(2026);
        List<String> layerDescriptors = new ArrayList<>();
        diffIds = new ArrayList<>();
        for (int i = 0; i < LAYERS; i++) {
            byte[] tar = layerTar(random, "layer" + i);
            diffIds.add("sha256:" + sha256(tar));
            byte[] gzipped = gzip(tar);
            layerDescriptors.add(descriptor("application/vnd.oci.image.layer.v1.tar+gzip", put(blobs, gzipped),
                    gzipped.length));
        }
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2026-11-22T00:00:00Z\","
                + "\"config\":{\"Cmd\":[\"/bin/sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\""
                + String.join("\",\"", diffIds) + "\"]}}").getBytes(StandardCharsets.UTF_8);
        imageId = put(blobs, config);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":" + descriptor("application/vnd.oci.image.config.v1+json", imageId, config.length)
                + ",\"layers\":[" + String.join(",", layerDescriptors) + "]}").getBytes(StandardCharsets.UTF_8);
        String manifestDigest = put(blobs, manifest);
        Files.writeString(layout.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        Files.writeString(layout.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" + manifestDigest + "\",\"size\":"
                + manifest.length + ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"big\"}}]}");
    }

    private static byte[] layerTar(Random random, String directory) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] content = new byte[FILE_SIZE];
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            for (int f = 0; f < FILES_PER_LAYER; f++) {
                random.nextBytes(content);
                TarArchiveEntry entry = new TarArchiveEntry(directory + "/f" + f);
                entry.setSize(content.length);
                entry.setMode(0100644);
                tar.putArchiveEntry(entry);
                tar.write(content);
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(bytes) {
            {
                def.setLevel(Deflater.BEST_SPEED); // random data does not shrink anyway
            }
        }) {
            gzip.write(data);
        }
        return bytes.toByteArray();
    }

    private static String descriptor(String mediaType, String digest, long size) {
        return "{\"mediaType\":\"" + mediaType + "\",\"digest\":\"" + digest + "\",\"size\":" + size + "}";
    }

    private static String put(Path blobs, byte[] blob) throws IOException {
        String hex = sha256(blob);
        Files.write(blobs.resolve(hex), blob);
        return "sha256:" + hex;
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------- file system probes

    /**
     * What the layer store holds besides its mounts/ and remapped/ folders (containers' read-write layers and the
     * user-namespace copies of image layers, none here).
     */
    private static List<String> layerRecords(Path data) throws IOException {
        return list(data.resolve("image/layers")).stream().filter(name -> !name.equals("mounts") && !name.equals("remapped")).toList();
    }

    /** The layer directories of the storage driver. */
    private static List<String> driverLayers(Path data, String driver) throws IOException {
        return driver.equals("vfs") ? list(data.resolve("vfs/dir"))
                : list(data.resolve(driver)).stream().filter(name -> name.matches("[0-9a-f]{64}")).toList();
    }

    private static List<String> list(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static long count(Path dir, java.util.function.Predicate<Path> which) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(which).count();
        } catch (IOException e) {
            return 0; // not there yet
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return -1;
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return e.toString();
        }
    }

    /**
     * A loopback TCP proxy to the registry that sends its answers at most {@code bytesPerSecond} per
     * connection, so that a pull of tens of MB takes seconds and can be caught half way.
     */
    private static final class ThrottlingProxy implements AutoCloseable {
        private final ServerSocket server;
        private final int target;
        private final int bytesPerSecond;
        private final List<Socket> sockets = new ArrayList<>();
        private final Thread acceptor;

        ThrottlingProxy(int target, int bytesPerSecond) throws IOException {
            this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            this.target = target;
            this.bytesPerSecond = bytesPerSecond;
            this.acceptor = new Thread(this::accept, "throttling-proxy");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket client = server.accept();
                    Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
                    synchronized (sockets) {
                        sockets.add(client);
                        sockets.add(upstream);
                    }
                    pump(client, upstream, Integer.MAX_VALUE);
                    pump(upstream, client, bytesPerSecond);
                } catch (IOException e) {
                    return; // closed
                }
            }
        }

        private static void pump(Socket from, Socket to, int bytesPerSecond) {
            Thread t = new Thread(() -> {
                byte[] buffer = new byte[16 * 1024];
                long start = System.nanoTime();
                long sent = 0;
                try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                    int n;
                    while ((n = in.read(buffer)) > 0) {
                        out.write(buffer, 0, n);
                        sent += n;
                        long due = start + sent * 1_000_000_000L / bytesPerSecond;
                        long wait = due - System.nanoTime();
                        if (wait > 0) {
                            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                        }
                    }
                } catch (IOException | InterruptedException e) {
                    // one side went away: the other follows
                } finally {
                    closeQuietly(from);
                    closeQuietly(to);
                }
            }, "throttling-proxy-pump");
            t.setDaemon(true);
            t.start();
        }

        private static void closeQuietly(Socket socket) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // already closed
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            synchronized (sockets) {
                sockets.forEach(ThrottlingProxy::closeQuietly);
            }
        }
    }
}
