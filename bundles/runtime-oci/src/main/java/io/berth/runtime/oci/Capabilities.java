package io.berth.runtime.oci;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** A container's capability set: Docker's default set with {@code --cap-add} and {@code --cap-drop} applied. */
final class Capabilities {

    /** Docker's 14 default capabilities. */
    static final List<String> DEFAULT = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER",
            "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
            "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE");

    /** Every capability the kernel knows (as of Linux 5.9), in number order. */
    static final List<String> ALL = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
            "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
            "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
            "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
            "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
            "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
            "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
            "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE");

    private Capabilities() {
    }

    /**
     * The set Docker computes: drops first unless {@code ALL} is added, as moby's {@code caps.TweakCapabilities}
     * does; {@code ALL} in drop removes everything before the adds.
     *
     * @throws IllegalArgumentException naming the first capability that does not exist
     */
    static List<String> of(boolean privileged, List<String> add, List<String> drop) {
        return of(privileged, add, drop, bounding());
    }

    /**
     * As {@link #of(boolean, List, List)} with the capabilities this process may pass on: {@code ALL} and
     * {@code --privileged} mean all of those; naming one outside them is an error (the runtime would fail).
     */
    static List<String> of(boolean privileged, List<String> add, List<String> drop, List<String> available) {
        if (privileged) {
            return available;
        }
        List<String> adds = normalize(add);
        List<String> drops = normalize(drop);
        for (String name : adds) {
            if (!name.equals("ALL") && !available.contains(name)) {
                throw new IllegalArgumentException("capability " + name + " cannot be added: the daemon does not"
                        + " have it (it is not in its bounding set)");
            }
        }
        Set<String> result = new LinkedHashSet<>();
        if (adds.contains("ALL")) {
            result.addAll(available);
        } else if (!drops.contains("ALL")) {
            result.addAll(DEFAULT);
        }
        if (!adds.contains("ALL")) {
            drops.forEach(result::remove);
        }
        adds.stream().filter(c -> !c.equals("ALL") && !drops.contains(c)).forEach(result::add);
        return List.copyOf(result);
    }

    /** The capabilities in this process's bounding set ({@code CapBnd} in {@code /proc/self/status}). */
    static List<String> bounding() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapBnd:")) {
                    long mask = Long.parseUnsignedLong(line.substring("CapBnd:".length()).trim(), 16);
                    List<String> result = new ArrayList<>();
                    for (int bit = 0; bit < ALL.size(); bit++) {
                        if ((mask & (1L << bit)) != 0) {
                            result.add(ALL.get(bit));
                        }
                    }
                    return List.copyOf(result);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux as we know it: assume everything
        }
        return ALL;
    }

    /** Upper case with the {@code CAP_} prefix; {@code ALL} as it is. */
    private static List<String> normalize(List<String> names) {
        List<String> result = new ArrayList<>();
        for (String name : names == null ? List.<String>of() : names) {
            String upper = name.trim().toUpperCase(Locale.ROOT);
            if (upper.equals("ALL")) {
                result.add(upper);
                continue;
            }
            String canonical = upper.startsWith("CAP_") ? upper : "CAP_" + upper;
            if (!ALL.contains(canonical)) {
                throw new IllegalArgumentException("unknown capability: \"" + name + "\"");
            }
            result.add(canonical);
        }
        return result;
    }
}
