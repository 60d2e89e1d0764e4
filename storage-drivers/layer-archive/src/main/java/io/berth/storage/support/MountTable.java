package io.berth.storage.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/** The mount points this process sees, read from {@code /proc/self/mountinfo}. */
public final class MountTable {

    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    private final Set<Path> points;

    private MountTable(Set<Path> points) {
        this.points = points;
    }

    public static MountTable read() throws IOException {
        Set<Path> points = new HashSet<>();
        for (String line : Files.readAllLines(MOUNTINFO, StandardCharsets.UTF_8)) {
            String[] fields = line.split(" ");
            if (fields.length > 4) {
                points.add(Path.of(OctalEscapes.decodeUtf8(fields[4])));
            }
        }
        return new MountTable(points);
    }

    public boolean isMountPoint(Path dir) {
        return points.contains(dir.toAbsolutePath().normalize());
    }

    /** Every mount point strictly below {@code dir}. */
    public Set<Path> below(Path dir) {
        Path base = dir.toAbsolutePath().normalize();
        Set<Path> found = new HashSet<>();
        for (Path point : points) {
            if (point.startsWith(base) && !point.equals(base)) {
                found.add(point);
            }
        }
        return found;
    }
}
