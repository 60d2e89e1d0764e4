package io.berth.storage.btrfs;

import io.berth.storage.support.Commands;
import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real, throw-away btrfs filesystem for tests: a sparse image file in a temp
 * directory, attached to a loop device of its own ({@code losetup --find --show}),
 * formatted ({@code mkfs.btrfs}) and mounted on a temp directory.
 *
 * <p>As a JUnit 5 extension on a static field it is made before the class's
 * first test and always torn down after its last, whether tests failed or not:
 * <pre>
 * &#64;RegisterExtension
 * static final LoopBtrfs BTRFS = new LoopBtrfs();
 * ...
 * Path dataRoot = BTRFS.newDirectory("data-root");
 * </pre>
 * It can also be used on its own: {@link #start()} then {@link #close()}.
 * Teardown unmounts the filesystem, detaches exactly the loop device it
 * attached (by its path) and deletes the image; a shutdown hook does the same
 * if the JVM exits without it.
 *
 * <p>Needs root, loop devices, the btrfs kernel module, util-linux and
 * btrfs-progs. Where the host cannot do it, {@link #start()} throws with the
 * reason, so the tests fail instead of being skipped.
 */
public final class LoopBtrfs implements BeforeAllCallback, AfterAllCallback, AutoCloseable {

    /** 512 MiB: room for the tests' layers, sparse so it costs only what is written. */
    public static final long DEFAULT_SIZE = 512L * 1024 * 1024;

    private static final AtomicInteger DIRECTORIES = new AtomicInteger();

    private final long size;
    private Path work;
    private Path image;
    private Path loopDevice;
    private Path mountPoint;
    private boolean mounted;
    private Thread shutdownHook;

    public LoopBtrfs() {
        this(DEFAULT_SIZE);
    }

    public LoopBtrfs(long size) {
        this.size = size;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        start();
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        close();
    }

    /** Where the btrfs filesystem is mounted. */
    public synchronized Path mountPoint() {
        if (mountPoint == null || !mounted) {
            throw new IllegalStateException("the loop btrfs filesystem is not mounted; call start() first"
                    + " (or register LoopBtrfs on a static field)");
        }
        return mountPoint;
    }

    /** The loop device this instance attached, e.g. {@code /dev/loop3}. */
    public synchronized Path loopDevice() {
        if (loopDevice == null) {
            throw new IllegalStateException("no loop device attached");
        }
        return loopDevice;
    }

    /** The image file behind the loop device. */
    public synchronized Path image() {
        if (image == null) {
            throw new IllegalStateException("no image");
        }
        return image;
    }

    /** A new, empty directory on the btrfs filesystem, e.g. a data-root for one test. */
    public Path newDirectory(String prefix) throws IOException {
        return Files.createDirectory(mountPoint().resolve(prefix + "-" + DIRECTORIES.incrementAndGet()));
    }

    /**
     * Makes, attaches, formats and mounts the filesystem; does nothing when it
     * is already mounted. On failure undoes what it did and throws with the reason.
     */
    public synchronized void start() throws IOException {
        if (mounted) {
            return;
        }
        String missing = whyNot();
        if (missing != null) {
            throw new IOException("cannot make a loop btrfs filesystem for the tests: " + missing);
        }
        try {
            work = Files.createTempDirectory("berth-loop-btrfs-");
            image = work.resolve("btrfs.img");
            mountPoint = Files.createDirectory(work.resolve("mnt"));
            try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
                file.setLength(size); // sparse
            }
            shutdownHook = new Thread(this::closeQuietly, "LoopBtrfs cleanup " + work);
            Runtime.getRuntime().addShutdownHook(shutdownHook);
            String device = run("losetup", "--find", "--show", image.toString()).trim();
            if (!device.startsWith("/dev/loop")) {
                throw new IOException("losetup --find --show printed " + device + ", not a loop device");
            }
            loopDevice = Path.of(device);
            run("mkfs.btrfs", "-q", "-f", device);
            run("mount", "-t", "btrfs", device, mountPoint.toString());
            mounted = true;
            String type = Files.getFileStore(mountPoint).type();
            if (!"btrfs".equals(type)) {
                throw new IOException(mountPoint + " is " + type + " after mounting " + device + " on it");
            }
        } catch (IOException | RuntimeException e) {
            try {
                close();
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw new IOException("cannot make a loop btrfs filesystem for the tests: " + e.getMessage(), e);
        }
    }

    /** What this host lacks for a loop btrfs filesystem, or {@code null}. */
    private static String whyNot() throws IOException {
        if (!Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"))) {
            return "it needs root (loop devices, mkfs, mount)";
        }
        for (String command : List.of("losetup", "mount", "umount", "mkfs.btrfs")) {
            if (Commands.locate(command) == null) {
                return command + " is not installed" + (command.endsWith("btrfs") ? " (Debian package btrfs-progs)" : "");
            }
        }
        if (!Files.exists(Path.of("/dev/loop-control"))) {
            return "this host has no loop devices (/dev/loop-control is missing)";
        }
        if (!btrfsInKernel()) {
            try {
                run("modprobe", "btrfs");
            } catch (IOException e) {
                // reported below
            }
            if (!btrfsInKernel()) {
                return "the kernel does not support btrfs (not in /proc/filesystems; modprobe btrfs failed)";
            }
        }
        return null;
    }

    private static boolean btrfsInKernel() throws IOException {
        return Files.readAllLines(Path.of("/proc/filesystems")).stream()
                .anyMatch(line -> line.trim().endsWith("btrfs"));
    }

    /** Unmounts, detaches this instance's loop device and deletes the image; safe to call twice. */
    @Override
    public synchronized void close() throws IOException {
        List<String> problems = new ArrayList<>();
        if (mounted) {
            try {
                unmount();
                mounted = false;
            } catch (IOException e) {
                problems.add(e.getMessage());
            }
        }
        if (loopDevice != null && !mounted) {
            try {
                detach();
                loopDevice = null;
            } catch (IOException e) {
                problems.add(e.getMessage());
            }
        }
        if (work != null && !mounted && loopDevice == null) {
            try {
                for (Path path : new Path[] {image, mountPoint, work}) {
                    if (path != null) {
                        Files.deleteIfExists(path);
                    }
                }
                work = null;
            } catch (IOException e) {
                problems.add("cannot delete " + work + ": " + e);
            }
        }
        if (work == null && shutdownHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down: the hook is what calls us
            }
            shutdownHook = null;
        }
        if (!problems.isEmpty()) {
            throw new IOException("LoopBtrfs cleanup failed: " + String.join("; ", problems));
        }
    }

    private void closeQuietly() {
        try {
            close();
        } catch (IOException | RuntimeException e) {
            System.err.println(e.getMessage());
        }
    }

    private void unmount() throws IOException {
        IOException last = null;
        for (int attempt = 0; attempt < 10; attempt++) {
            try {
                run("umount", mountPoint.toString());
                return;
            } catch (IOException e) {
                last = e; // busy for a moment, e.g. a child process still has a file open
                sleep(300);
            }
        }
        throw last;
    }

    private void detach() throws IOException {
        String name = loopDevice.getFileName().toString();
        Path backingFile = Path.of("/sys/block", name, "loop", "backing_file");
        if (Files.exists(backingFile)) {
            String backing = Files.readString(backingFile, StandardCharsets.UTF_8).trim();
            if (!backing.startsWith(image.toString())) {
                throw new IOException(loopDevice + " is backed by " + backing + ", not by " + image
                        + "; leaving it alone");
            }
            run("losetup", "-d", loopDevice.toString());
        }
        // The kernel may finish the detach a moment after losetup returns.
        for (int attempt = 0; attempt < 100 && Files.exists(backingFile); attempt++) {
            sleep(100);
        }
        if (Files.exists(backingFile)) {
            throw new IOException(loopDevice + " is still attached after losetup -d");
        }
    }

    private static void sleep(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** Runs a command with a bounded wait; returns its output, or throws with it. */
    static String run(String... command) throws IOException {
        List<String> line = new ArrayList<>(List.of(command));
        String executable = Commands.locate(command[0]);
        if (executable == null) {
            throw new IOException(command[0] + " is not installed");
        }
        line.set(0, executable);
        Path output = Files.createTempFile("berth-loop-btrfs-", ".out");
        try {
            ProcessBuilder builder = new ProcessBuilder(line).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(output.toFile());
            builder.environment().put("LC_ALL", "C");
            Process process = builder.start();
            if (!process.waitFor(2, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish within 2 minutes");
            }
            String printed = Files.readString(output, StandardCharsets.UTF_8);
            if (process.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed (exit " + process.exitValue() + "): "
                        + printed.trim());
            }
            return printed;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + String.join(" ", command), e);
        } finally {
            Files.deleteIfExists(output);
        }
    }
}
