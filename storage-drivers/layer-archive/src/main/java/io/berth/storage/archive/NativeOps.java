package io.berth.storage.archive;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * File operations Java lacks, done by Debian's tools: one process per device node or fifo
 * (they are rare in layers), never per regular file.
 */
final class NativeOps {

    private NativeOps() {
    }

    /**
     * Creates a device node or fifo at {@code path}, which must not exist (mknod(2) never
     * follows or replaces anything there), and sets its modification time if given. The time
     * is set here because the JDK opens a file to set its times, which blocks on a fifo and
     * has side effects on devices.
     *
     * @param type {@code 'c'}, {@code 'b'} or {@code 'p'}
     */
    static void mknod(Path path, char type, long major, long minor, FileTime mtime) throws IOException {
        String time = mtime == null ? "" : touchTime(mtime);
        List<String> command;
        if (type == 'p') {
            command = List.of("sh", "-c",
                    "mknod -m 0600 -- \"$1\" p && { [ -z \"$2\" ] || touch -h -c -d \"@$2\" -- \"$1\"; }",
                    "sh", path.toString(), time);
        } else {
            command = List.of("sh", "-c",
                    "mknod -m 0600 -- \"$1\" \"$2\" \"$3\" \"$4\" && { [ -z \"$5\" ] || touch -h -c -d \"@$5\" -- \"$1\"; }",
                    "sh", path.toString(), String.valueOf(type), Long.toString(major), Long.toString(minor), time);
        }
        Xattrs.run(command, null, false);
    }

    /** {@code touch -d @SECONDS.NANOS}. */
    static String touchTime(FileTime time) {
        long nanos = time.to(TimeUnit.NANOSECONDS);
        long seconds = Math.floorDiv(nanos, 1_000_000_000L);
        long rest = Math.floorMod(nanos, 1_000_000_000L);
        return seconds + "." + String.format("%09d", rest);
    }
}
