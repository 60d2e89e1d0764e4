package io.berth.storage.testsuite;

import io.berth.storage.support.OctalEscapes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The mounts below a directory, from /proc/self/mountinfo; used to leave no mount behind a test. */
public final class Mounts {

    private Mounts() {
    }

    public static List<Path> below(Path dir) throws IOException {
        List<Path> mounts = new ArrayList<>();
        String prefix = dir.toAbsolutePath().normalize().toString();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] fields = line.split(" ");
            String point = OctalEscapes.decodeUtf8(fields[4]);
            if (point.equals(prefix) || point.startsWith(prefix + "/")) {
                mounts.add(Path.of(point));
            }
        }
        return mounts;
    }

    /** Unmounts everything below {@code dir}, deepest first. */
    public static void unmountBelow(Path dir) throws IOException {
        List<Path> mounts = below(dir);
        mounts.sort(Comparator.comparingInt((Path p) -> p.getNameCount()).reversed());
        for (Path mount : mounts) {
            if (mount.equals(dir.toAbsolutePath().normalize())) {
                continue; // the directory itself may be a test filesystem its owner unmounts
            }
            RichTree.run("umount", "-l", mount.toString());
        }
    }
}
