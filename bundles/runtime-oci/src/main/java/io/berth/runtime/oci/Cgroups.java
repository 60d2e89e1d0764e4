package io.berth.runtime.oci;

import io.berth.spi.runtime.ResourceUsage;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What a container's cgroups say (processes, usage), in either layout, and their removal. */
final class Cgroups {

    private Cgroups() {
    }

    /** The pids in the cgroup at {@code path} (e.g. {@code /berth/ID}). */
    static List<Long> processes(String path) throws IOException {
        Path dir = CgroupLayout.detect() == CgroupLayout.UNIFIED ? v2(path) : v1("pids", path);
        List<Long> pids = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(dir.resolve("cgroup.procs"))) {
                if (!line.isBlank()) {
                    pids.add(Long.parseLong(line.trim()));
                }
            }
        } catch (NoSuchFileException e) {
            // no cgroup: no processes
        }
        return pids;
    }

    static ResourceUsage usage(String path) throws IOException {
        long hostMemory = hostMemory();
        if (CgroupLayout.detect() == CgroupLayout.UNIFIED) {
            Path dir = v2(path);
            long cpu = stat(dir.resolve("cpu.stat"), "usage_usec") * 1000;
            long memory = number(dir.resolve("memory.current")) - stat(dir.resolve("memory.stat"), "inactive_file");
            long limit = number(dir.resolve("memory.max"));
            return new ResourceUsage(cpu, Math.max(0, memory), limit <= 0 || limit > hostMemory ? hostMemory : limit,
                    number(dir.resolve("pids.current")));
        }
        long cpu = number(v1("cpuacct", path).resolve("cpuacct.usage"));
        Path memoryDir = v1("memory", path);
        long memory = number(memoryDir.resolve("memory.usage_in_bytes"))
                - stat(memoryDir.resolve("memory.stat"), "total_inactive_file");
        long limit = number(memoryDir.resolve("memory.limit_in_bytes"));
        return new ResourceUsage(cpu, Math.max(0, memory), limit <= 0 || limit > hostMemory ? hostMemory : limit,
                number(v1("pids", path).resolve("pids.current")));
    }

    /** Removes the (empty) cgroup at {@code path} from every hierarchy that has it. */
    static void remove(String path) throws IOException {
        List<Path> dirs = new ArrayList<>();
        if (CgroupLayout.detect() == CgroupLayout.UNIFIED) {
            dirs.add(v2(path));
        } else {
            try (DirectoryStream<Path> hierarchies = Files.newDirectoryStream(CgroupLayout.ROOT)) {
                for (Path hierarchy : hierarchies) {
                    if (!Files.isSymbolicLink(hierarchy)) {
                        dirs.add(hierarchy.resolve(path.substring(1)));
                    }
                }
            }
        }
        IOException failure = null;
        for (Path dir : dirs) {
            try {
                Files.deleteIfExists(dir); // rmdir: a cgroup with processes refuses
            } catch (IOException e) {
                failure = e;
            }
        }
        if (failure != null) {
            throw new IOException("cannot remove cgroup " + path + ": " + failure.getMessage(), failure);
        }
    }

    /** Lifts the pids limit of the cgroup at {@code path} ({@code pids.max} becomes {@code max}). */
    static void unlimitPids(String path) throws IOException {
        Path dir = CgroupLayout.detect() == CgroupLayout.UNIFIED ? v2(path) : v1("pids", path);
        Files.writeString(dir.resolve("pids.max"), "max");
    }

    /** Whether any hierarchy still has a cgroup at {@code path}. */
    static boolean exists(String path) throws IOException {
        if (CgroupLayout.detect() == CgroupLayout.UNIFIED) {
            return Files.exists(v2(path));
        }
        try (DirectoryStream<Path> hierarchies = Files.newDirectoryStream(CgroupLayout.ROOT)) {
            for (Path hierarchy : hierarchies) {
                if (Files.exists(hierarchy.resolve(path.substring(1)))) {
                    return true;
                }
            }
        }
        return false;
    }

    private static Path v2(String path) {
        return CgroupLayout.ROOT.resolve(path.substring(1));
    }

    private static Path v1(String controller, String path) {
        return CgroupLayout.ROOT.resolve(controller).resolve(path.substring(1));
    }

    /** A file holding one number; {@code max} and a missing file are 0. */
    private static long number(Path file) throws IOException {
        try {
            String text = Files.readString(file).trim();
            return text.equals("max") ? 0 : Long.parseLong(text);
        } catch (NoSuchFileException e) {
            return 0;
        }
    }

    /** A value of a flat keyed file ({@code memory.stat}, {@code cpu.stat}), 0 if absent. */
    private static long stat(Path file, String key) throws IOException {
        try {
            for (String line : Files.readAllLines(file)) {
                String[] words = line.split(" ");
                if (words.length == 2 && words[0].equals(key)) {
                    return Long.parseLong(words[1]);
                }
            }
        } catch (NoSuchFileException e) {
            // no such controller here
        }
        return 0;
    }

    private static long hostMemory() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemTotal:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024; // "MemTotal:   16318004 kB"
            }
        }
        return Long.MAX_VALUE;
    }
}
