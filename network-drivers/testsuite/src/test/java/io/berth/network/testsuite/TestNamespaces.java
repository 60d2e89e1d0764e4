package io.berth.network.testsuite;

import io.berth.network.support.NetCommands;
import io.berth.storage.support.Commands;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Network namespaces a test creates for itself ({@code berth-t-*} under
 * {@code /run/netns}), the commands and servers it runs inside them, and
 * their removal, also after a failure ({@link #close()} from an
 * {@code @AfterEach}).
 */
public final class TestNamespaces implements AutoCloseable {

    /** How every namespace a test makes is named, so a leftover is easy to spot and remove. */
    public static final String PREFIX = "berth-t-";

    private final List<String> names = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();

    /** Creates a namespace {@code berth-t-<random>}; returns its path. */
    public Path create() throws IOException {
        String name = PREFIX + UUID.randomUUID().toString().substring(0, 8);
        NetCommands.ip("netns", "add", name);
        names.add(name);
        return path(name);
    }

    public static Path path(String name) {
        return Path.of("/run/netns", name);
    }

    /** Runs a command inside the namespace at {@code netns}, whatever its exit code. */
    public Commands.Result run(Path netns, String... command) throws IOException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", netns.getFileName().toString()));
        full.addAll(List.of(command));
        return NetCommands.run(full);
    }

    /** Starts a long-running command (a server) inside the namespace; it is stopped by {@link #close()}. */
    public Process start(Path netns, String... command) throws IOException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", netns.getFileName().toString()));
        full.addAll(List.of(command));
        Process process = new ProcessBuilder(full).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        processes.add(process);
        return process;
    }

    /**
     * Starts {@code busybox httpd} on port 80 in the namespace, serving
     * {@code dir}, and waits until it answers there.
     */
    public void startHttpd(Path netns, Path dir) throws IOException, InterruptedException {
        start(netns, "busybox", "httpd", "-f", "-p", "80", "-h", dir.toString());
        awaitAnswer(netns, "http://127.0.0.1/");
    }

    /** Starts a UDP server in the namespace that answers each datagram with {@code got <datagram>}; returns once it is bound. */
    public void startUdpEcho(Path netns, int port) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder("ip", "netns", "exec", netns.getFileName().toString(), java,
                "-cp", System.getProperty("java.class.path"), UdpEchoServer.class.getName(), Integer.toString(port))
                .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        processes.add(process);
        BufferedReader output = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String line = output.readLine();
        if (!"listening".equals(line)) {
            throw new IOException("the UDP echo server in " + netns + " did not start: " + line);
        }
    }

    /**
     * Fetches {@code url} with busybox wget from inside the namespace, given
     * 3 s (by coreutils' timeout: this busybox's own {@code wget -T} crashes);
     * the result says how it went.
     */
    public Commands.Result wget(Path netns, String url) throws IOException {
        return run(netns, "timeout", "3", "busybox", "wget", "-qO-", url);
    }

    private void awaitAnswer(Path netns, String url) throws IOException, InterruptedException {
        for (int i = 0; i < 100; i++) {
            if (wget(netns, url).exitCode() == 0) {
                return;
            }
            Thread.sleep(50);
        }
        throw new IOException("nothing answered " + url + " in " + netns);
    }

    /** Stops the servers and deletes the namespaces; keeps going after a failure and reports the first. */
    @Override
    public void close() throws IOException {
        IOException first = null;
        for (Process process : processes) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        processes.clear();
        for (String name : names) {
            try {
                NetCommands.ip("netns", "delete", name);
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        names.clear();
        if (first != null) {
            throw first;
        }
    }
}
