package io.berth.runtime.oci;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * This process's resource hard limits ({@code /proc/self/limits}). A runtime without CAP_SYS_RESOURCE cannot raise
 * a hard limit, so a container's rlimits must stay at or below them.
 */
final class HostLimits {

    private HostLimits() {
    }

    /** The hard limit of the named resource ("Max open files"), empty when unlimited or unknown. */
    static OptionalLong hard(String resource) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith(resource)) {
                    String[] words = line.substring(resource.length()).trim().split("\\s+");
                    return words[1].equals("unlimited") ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(words[1]));
                }
            }
        } catch (IOException | RuntimeException e) {
            // no limits known: the caller leaves the rlimit out
        }
        return OptionalLong.empty();
    }
}
