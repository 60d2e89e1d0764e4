package io.berth.storage.overlay;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/** The mount points this process sees, read from {@code /proc/self/mountinfo}. */
final class MountTable {

    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    private final Set<Path> points;

    private MountTable(Set<Path> points) {
        this.points = points;
    }

    static MountTable read() throws IOException {
        Set<Path> points = new HashSet<>();
        for (String line : Files.readAllLines(MOUNTINFO, StandardCharsets.UTF_8)) {
            String[] fields = line.split(" ");
            if (fields.length > 4) {
                points.add(Path.of(unescape(fields[4])));
            }
        }
        return new MountTable(points);
    }

    boolean isMountPoint(Path dir) {
        return points.contains(dir.toAbsolutePath().normalize());
    }

    /** Every mount point strictly below {@code dir}. */
    Set<Path> below(Path dir) {
        Path base = dir.toAbsolutePath().normalize();
        Set<Path> found = new HashSet<>();
        for (Path point : points) {
            if (point.startsWith(base) && !point.equals(base)) {
                found.add(point);
            }
        }
        return found;
    }

    /** The kernel writes space, tab, newline and backslash in mount points as {@code \ooo}. */
    static String unescape(String field) {
        if (field.indexOf('\\') < 0) {
            return field;
        }
        byte[] raw = field.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length);
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == '\\' && i + 3 < raw.length && isOctal(raw[i + 1]) && isOctal(raw[i + 2]) && isOctal(raw[i + 3])) {
                out.write(((raw[i + 1] - '0') << 6) | ((raw[i + 2] - '0') << 3) | (raw[i + 3] - '0'));
                i += 3;
            } else {
                out.write(raw[i]);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static boolean isOctal(byte b) {
        return b >= '0' && b <= '7';
    }
}
