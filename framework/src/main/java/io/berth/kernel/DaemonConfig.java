package io.berth.kernel;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Hashtable;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The daemon's settings: daemon.json merged with the command line, using
 * dockerd's key names and rules. Malformed JSON, a value of the wrong type, or
 * a key set both as a flag and in the file stop the daemon before it starts;
 * keys berth does not know are reported as warnings (dockerd refuses them,
 * but berth's subsystems may be newer than its kernel).
 */
public final class DaemonConfig {

    public static final String DEFAULT_DATA_ROOT = "/var/lib/berth";
    public static final String DEFAULT_EXEC_ROOT = "/run/berth";
    public static final String DEFAULT_HOST = "unix:///run/berth/berth.sock";
    private static final Set<String> LOG_LEVELS = Set.of("debug", "info", "warn", "error", "fatal");

    private enum Kind { STRING, STRING_LIST, BOOLEAN, NUMBER, ANY }

    /** dockerd's daemon.json keys, with the JSON type each must have. */
    private static final Map<String, Kind> KNOWN_KEYS = knownKeys();

    private final Map<String, Object> settings;
    private final List<String> warnings;

    private DaemonConfig(Map<String, Object> settings, List<String> warnings) {
        this.settings = settings;
        this.warnings = warnings;
    }

    /**
     * Reads {@code file} (missing is fine unless {@code mustExist}) and merges the command-line settings.
     */
    public static DaemonConfig load(Path file, boolean mustExist, Map<String, Object> flagSettings)
            throws UsageException {
        Map<String, Object> fromFile = new LinkedHashMap<>();
        List<String> warnings = new ArrayList<>();
        String text = null;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            if (mustExist) {
                throw new UsageException("unable to configure the berth daemon with file " + file
                        + ": open " + file + ": no such file or directory");
            }
        } catch (IOException e) {
            throw new UsageException("unable to configure the berth daemon with file " + file + ": " + e);
        }
        if (text != null && !text.isBlank()) {
            fromFile = parse(file, text, warnings);
        }
        List<String> conflicts = new ArrayList<>();
        for (Map.Entry<String, Object> flag : flagSettings.entrySet()) {
            if (fromFile.containsKey(flag.getKey())) {
                conflicts.add(flag.getKey() + ": (from flag: " + flag.getValue() + ", from file: "
                        + fromFile.get(flag.getKey()) + ")");
            }
        }
        if (!conflicts.isEmpty()) {
            throw new UsageException("unable to configure the berth daemon with file " + file
                    + ": the following directives are specified both as a flag and in the configuration file: "
                    + String.join(", ", conflicts));
        }
        Map<String, Object> merged = new LinkedHashMap<>(fromFile);
        merged.putAll(flagSettings);
        validate(merged, file);
        if (listensOnTcp(merged) && !tlsOn(merged)) {
            warnings.add("listening on tcp:// without TLS (--tls=false): anyone who reaches the address controls the"
                    + " daemon and the host");
        }
        return new DaemonConfig(Collections.unmodifiableMap(merged), List.copyOf(warnings));
    }

    private static Map<String, Object> parse(Path file, String text, List<String> warnings) throws UsageException {
        ObjectMapper mapper = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        JsonNode root;
        try {
            root = mapper.readTree(text);
        } catch (JsonProcessingException e) {
            JsonLocation where = e.getLocation();
            String position = where == null ? "" : "line " + where.getLineNr() + ", column " + where.getColumnNr() + ": ";
            throw new UsageException("unable to configure the berth daemon with file " + file + ": " + position
                    + e.getOriginalMessage());
        }
        if (!root.isObject()) {
            throw new UsageException("unable to configure the berth daemon with file " + file
                    + ": the top level must be a JSON object, found " + root.getNodeType().toString().toLowerCase());
        }
        Map<String, Object> values = new LinkedHashMap<>();
        Set<String> unknown = new TreeSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            Kind kind = KNOWN_KEYS.get(field.getKey());
            if (kind == null) {
                unknown.add(field.getKey());
                kind = Kind.ANY;
            }
            values.put(field.getKey(), convert(file, field.getKey(), field.getValue(), kind));
        }
        if (!unknown.isEmpty()) {
            warnings.add("configuration file " + file + " has keys berth does not know (kept, passed on as they are): "
                    + String.join(", ", unknown));
        }
        return values;
    }

    private static Object convert(Path file, String key, JsonNode value, Kind kind) throws UsageException {
        switch (kind) {
            case STRING -> {
                if (value.isTextual()) return value.textValue();
            }
            case BOOLEAN -> {
                if (value.isBoolean()) return value.booleanValue();
            }
            case NUMBER -> {
                if (value.isIntegralNumber()) return value.longValue();
                if (value.isNumber()) return value.doubleValue();
            }
            case STRING_LIST -> {
                if (value.isArray()) {
                    List<String> list = new ArrayList<>();
                    for (JsonNode element : value) {
                        if (!element.isTextual()) {
                            throw new UsageException("unable to configure the berth daemon with file " + file
                                    + ": \"" + key + "\" must be a list of strings, found " + element);
                        }
                        list.add(element.textValue());
                    }
                    return List.copyOf(list);
                }
            }
            case ANY -> {
                if (value.isTextual()) return value.textValue();
                if (value.isBoolean()) return value.booleanValue();
                if (value.isIntegralNumber()) return value.longValue();
                if (value.isNumber()) return value.doubleValue();
                return value.toString();
            }
        }
        throw new UsageException("unable to configure the berth daemon with file " + file + ": \"" + key
                + "\" must be " + describe(kind) + ", found " + value);
    }

    private static String describe(Kind kind) {
        return switch (kind) {
            case STRING -> "a string";
            case STRING_LIST -> "a list of strings";
            case BOOLEAN -> "true or false";
            case NUMBER -> "a number";
            case ANY -> "a value";
        };
    }

    private static void validate(Map<String, Object> settings, Path file) throws UsageException {
        Object level = settings.get("log-level");
        if (level != null && !LOG_LEVELS.contains(level.toString())) {
            throw new UsageException("invalid log level: " + level + " (use one of debug, info, warn, error, fatal)");
        }
        for (String key : List.of("data-root", "exec-root")) {
            Object dir = settings.get(key);
            if (dir != null && dir.toString().isBlank()) {
                throw new UsageException(key + " must not be empty");
            }
        }
        Object hosts = settings.get("hosts");
        if (hosts instanceof List<?> list) {
            for (Object host : list) {
                ListenAddress.parse(host.toString());
            }
        }
        if (listensOnTcp(settings) && !tlsOn(settings) && !Boolean.FALSE.equals(settings.get("tls"))) {
            throw new UsageException("berth does not listen on tcp:// without TLS: give --tlsverify with --tlscacert,"
                    + " --tlscert and --tlskey (\"tlsverify\": true in daemon.json), or --tls=false to allow"
                    + " unauthenticated access explicitly");
        }
    }

    private static boolean listensOnTcp(Map<String, Object> settings) {
        return settings.get("hosts") instanceof List<?> list
                && list.stream().anyMatch(host -> host.toString().startsWith("tcp://"));
    }

    /** dockerd's rule: {@code tlsverify} implies {@code tls}. */
    private static boolean tlsOn(Map<String, Object> settings) {
        return Boolean.TRUE.equals(settings.get("tls")) || Boolean.TRUE.equals(settings.get("tlsverify"));
    }

    /** Warnings found while reading the file, to be logged once logging is set up. */
    public List<String> warnings() {
        return warnings;
    }

    public Path dataRoot() {
        return Path.of(string("data-root", DEFAULT_DATA_ROOT)).toAbsolutePath().normalize();
    }

    public Path execRoot() {
        return Path.of(string("exec-root", DEFAULT_EXEC_ROOT)).toAbsolutePath().normalize();
    }

    public String logLevel() {
        if (Boolean.TRUE.equals(settings.get("debug"))) {
            return "debug";
        }
        return string("log-level", "info");
    }

    /** The group that gets read/write access to unix sockets, or {@code null}. */
    public String socketGroup() {
        return string("group", null);
    }

    public List<ListenAddress> hosts() throws UsageException {
        Object hosts = settings.get("hosts");
        List<ListenAddress> result = new ArrayList<>();
        if (hosts instanceof List<?> list && !list.isEmpty()) {
            for (Object host : list) {
                result.add(ListenAddress.parse(host.toString()));
            }
        } else {
            result.add(ListenAddress.parse(DEFAULT_HOST));
        }
        return result;
    }

    private String string(String key, String fallback) {
        Object value = settings.get(key);
        return value == null ? fallback : value.toString();
    }

    /**
     * The settings as ConfigAdmin properties: strings, booleans, numbers,
     * lists as {@code String[]}, nested JSON as its text. Defaults for the
     * directories are filled in so that consumers see the effective values.
     */
    public Hashtable<String, Object> toConfigurationProperties() {
        Hashtable<String, Object> properties = new Hashtable<>();
        for (Map.Entry<String, Object> entry : settings.entrySet()) {
            Object value = entry.getValue();
            if (value instanceof List<?> list) {
                value = list.stream().map(Object::toString).toArray(String[]::new);
            }
            properties.put(entry.getKey(), value);
        }
        properties.put("data-root", dataRoot().toString());
        properties.put("exec-root", execRoot().toString());
        properties.put("log-level", logLevel());
        return properties;
    }

    private static Map<String, Kind> knownKeys() {
        Map<String, Kind> keys = new LinkedHashMap<>();
        for (String key : List.of("data-root", "exec-root", "storage-driver", "log-level", "log-driver", "log-format",
                "group", "pidfile", "bip", "bridge", "cgroup-parent", "default-runtime", "default-shm-size",
                "fixed-cidr", "fixed-cidr-v6", "default-gateway", "default-gateway-v6", "ip", "tlscacert", "tlscert",
                "tlskey", "userland-proxy-path", "userns-remap", "seccomp-profile", "default-cgroupns-mode",
                "default-ipc-mode", "init-path", "containerd", "containerd-namespace", "api-cors-header",
                "host-gateway-ip", "metrics-addr", "swarm-default-advertise-addr", "cpu-rt-period", "cpu-rt-runtime")) {
            keys.put(key, Kind.STRING);
        }
        for (String key : List.of("hosts", "registry-mirrors", "insecure-registries", "dns", "dns-opts",
                "dns-search", "exec-opts", "storage-opts", "labels", "authorization-plugins",
                "allow-nondistributable-artifacts", "node-generic-resources", "cdi-spec-dirs")) {
            keys.put(key, Kind.STRING_LIST);
        }
        for (String key : List.of("debug", "live-restore", "tls", "tlsverify", "experimental", "icc", "ip-forward",
                "ip-masq", "iptables", "ip6tables", "ipv6", "no-new-privileges", "raw-logs", "selinux-enabled",
                "userland-proxy", "init", "ip-forward-no-drop")) {
            keys.put(key, Kind.BOOLEAN);
        }
        for (String key : List.of("max-concurrent-downloads", "max-concurrent-uploads", "max-download-attempts",
                "mtu", "oom-score-adjust", "shutdown-timeout", "network-control-plane-mtu")) {
            keys.put(key, Kind.NUMBER);
        }
        for (String key : List.of("log-opts", "default-ulimits", "runtimes", "features", "default-address-pools",
                "builder", "proxies", "default-network-opts", "cluster-store-opts")) {
            keys.put(key, Kind.ANY);
        }
        return Collections.unmodifiableMap(keys);
    }
}
