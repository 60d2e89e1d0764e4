package io.berth.containers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.spi.containers.ContainerConfig;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A container's effective configuration as Docker computes it from the request and the image's config: the
 * request's values win, the image fills in the rest. An entrypoint in the request replaces the image's and
 * drops the image's command unless the request gives one; the environment is merged by variable name; exposed
 * ports, volumes and labels are merged.
 */
final class ConfigMerge {

    /** The effective configuration and the command it runs ({@code Path} and {@code Args} in inspect). */
    record Merged(ContainerConfig config, String path, List<String> args) {

        /** The whole command: path then args. */
        List<String> command() {
            List<String> all = new ArrayList<>();
            all.add(path);
            all.addAll(args);
            return all;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private ConfigMerge() {
    }

    /** The {@code config} object of an image config blob, as a ContainerConfig (empty when it has none). */
    static ContainerConfig imageConfig(byte[] imageConfigJson) throws IOException {
        JsonNode config = JSON.readTree(imageConfigJson).path("config");
        if (!config.isObject()) {
            return empty();
        }
        return JSON.treeToValue(config, ContainerConfig.class);
    }

    static ContainerConfig empty() {
        return new ContainerConfig(null, null, null, false, false, false, null, false, false, false, null, null,
                null, null, null, null, null, null, null);
    }

    /**
     * Merges; refuses with Docker's "No command specified" when neither gives anything to run.
     *
     * @param request what was asked (null fields take the image's values)
     * @param image   the image's config
     */
    static Merged merge(ContainerConfig request, ContainerConfig image) {
        List<String> entrypoint;
        List<String> cmd = nonEmpty(request.cmd());
        if (request.entrypoint() == null) {
            entrypoint = image.entrypoint();
            if (cmd == null) {
                cmd = image.cmd();
            }
        } else {
            entrypoint = cleared(request.entrypoint()) ? List.of() : request.entrypoint();
        }
        List<String> command = new ArrayList<>();
        if (entrypoint != null) {
            command.addAll(entrypoint);
        }
        if (cmd != null) {
            command.addAll(cmd);
        }
        if (command.isEmpty() || command.get(0).isEmpty()) {
            throw new IllegalArgumentException("No command specified");
        }
        ContainerConfig merged = new ContainerConfig(
                request.hostname(),
                request.domainname(),
                blank(request.user()) ? image.user() : request.user(),
                request.attachStdin(), request.attachStdout(), request.attachStderr(),
                union(image.exposedPorts(), request.exposedPorts()),
                request.tty(), request.openStdin(), request.stdinOnce(),
                env(request.env(), image.env()),
                cmd == null ? null : List.copyOf(cmd),
                request.image(),
                union(image.volumes(), request.volumes()),
                blank(request.workingDir()) ? image.workingDir() : request.workingDir(),
                entrypoint == null ? null : List.copyOf(entrypoint),
                union(image.labels(), request.labels()),
                blank(request.stopSignal()) ? image.stopSignal() : request.stopSignal(),
                request.stopTimeout());
        return new Merged(merged, command.get(0), List.copyOf(command.subList(1, command.size())));
    }

    /** {@code []} and {@code [""]} clear the image's entrypoint. */
    private static boolean cleared(List<String> entrypoint) {
        return entrypoint.isEmpty() || (entrypoint.size() == 1 && entrypoint.get(0).isEmpty());
    }

    /** The request's variables, then the image's whose names the request does not set. */
    private static List<String> env(List<String> request, List<String> image) {
        List<String> env = new ArrayList<>(request == null ? List.of() : request);
        if (image != null) {
            for (String variable : image) {
                String name = nameOf(variable);
                if (env.stream().noneMatch(mine -> nameOf(mine).equals(name))) {
                    env.add(variable);
                }
            }
        }
        return env.isEmpty() && request == null && image == null ? null : env;
    }

    private static String nameOf(String variable) {
        int equals = variable.indexOf('=');
        return equals < 0 ? variable : variable.substring(0, equals);
    }

    private static <V> Map<String, V> union(Map<String, V> image, Map<String, V> request) {
        if (image == null && request == null) {
            return null;
        }
        Map<String, V> all = new LinkedHashMap<>();
        if (image != null) {
            all.putAll(image);
        }
        if (request != null) {
            all.putAll(request);
        }
        return all;
    }

    private static List<String> nonEmpty(List<String> list) {
        return list == null || list.isEmpty() ? null : list;
    }

    private static boolean blank(String text) {
        return text == null || text.isEmpty();
    }
}
