package io.berth.containers;

import io.berth.spi.runtime.ContainerRuntime;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/** The container runtimes present now, by name; they may come and go. */
interface Runtimes {

    /** The runtime of this name, or null while it is not there. */
    ContainerRuntime byName(String name);

    /** The name of the runtime new containers get. */
    String defaultName() throws IOException;

    /**
     * The default runtime's name: daemon.json's {@code default-runtime} if set, else the one runtime with
     * {@link ContainerRuntime#DEFAULT_RUNTIME} {@code true}, else the only one.
     *
     * @param configured daemon.json's {@code default-runtime}, or null/empty
     * @param present    each present runtime's name and whether it calls itself the default
     */
    static String choose(String configured, Map<String, Boolean> present) throws IOException {
        if (configured != null && !configured.isEmpty()) {
            if (!present.containsKey(configured)) {
                throw new IOException("the default runtime " + configured + " (daemon.json default-runtime) is not"
                        + " available; present: " + present.keySet());
            }
            return configured;
        }
        List<String> defaults = present.entrySet().stream().filter(Map.Entry::getValue).map(Map.Entry::getKey)
                .sorted().toList();
        if (defaults.size() == 1) {
            return defaults.get(0);
        }
        if (present.size() == 1) {
            return present.keySet().iterator().next();
        }
        if (present.isEmpty()) {
            throw new IOException("no container runtime is available");
        }
        throw new IOException("several container runtimes are available (" + present.keySet()
                + ") and none is the default: set default-runtime in daemon.json");
    }
}
