package io.berth.api;

import static io.berth.api.Routes.NAME;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.spi.containers.CommitRequest;
import io.berth.spi.containers.Container;
import io.berth.spi.containers.ContainerConfig;
import io.berth.spi.containers.ContainerFilter;
import io.berth.spi.containers.ContainerService;
import io.berth.spi.containers.ContainerUpdate;
import io.berth.spi.containers.HostConfig;
import io.berth.spi.containers.LogOptions;
import io.berth.spi.containers.LogReader;
import io.berth.spi.containers.Top;
import io.berth.spi.containers.WaitCondition;
import io.berth.spi.images.Image;
import io.berth.spi.storage.Change;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.eclipse.jetty.http.HttpStatus;

/**
 * {@code /containers/...}: what {@code docker create/ps/inspect/start/stop/restart/kill/rm/wait/logs/pause/
 * unpause/rename/update/top/diff/export/container prune} call, with the parameters the docker CLI sends.
 */
final class ContainerEndpoints {

    /** The 8-byte frame header's stream numbers (stdout 1, stderr 2) come straight from the log entries. */
    static final String MULTIPLEXED = "application/vnd.docker.multiplexed-stream";
    static final String RAW = "application/vnd.docker.raw-stream";

    private final Service<ContainerService> service;
    private final StreamEndpoints streams;

    /** @param streams where an attach may wait for the container's start */
    ContainerEndpoints(Service<ContainerService> service, StreamEndpoints streams) {
        this.service = service;
        this.streams = streams;
    }

    void addTo(Routes routes) {
        String one = "/containers/(?<id>" + NAME + ")";
        routes.add("GET", "/containers/json", this::list)
                .add("POST", "/commit", this::commit)
                .add("POST", "/containers/create", this::create)
                .add("POST", "/containers/prune", this::prune)
                .add("GET", one + "/json", this::inspect)
                .add("POST", one + "/start", this::start)
                .add("POST", one + "/stop", this::stop)
                .add("POST", one + "/restart", this::restart)
                .add("POST", one + "/kill", this::kill)
                .add("DELETE", one, this::remove)
                .add("POST", one + "/wait", this::await)
                .add("GET", one + "/logs", this::logs)
                .add("POST", one + "/pause", x -> noContent(x, () -> service.get().pause(x.path("id"))))
                .add("POST", one + "/unpause", x -> noContent(x, () -> service.get().unpause(x.path("id"))))
                .add("POST", one + "/rename", x -> noContent(x, () -> service.get().rename(x.path("id"),
                        required(x, "name"))))
                .add("POST", one + "/update", this::update)
                .add("GET", one + "/top", this::top)
                .add("GET", one + "/changes", this::changes)
                .add("GET", one + "/export", this::export);
    }


    private void list(Exchange x) throws IOException {
        ContainerFilter filter = ContainerFilter.of(x.filters());
        boolean all = x.flag("all") || filter.needsAll();
        Integer limit = x.integer("limit", -1);
        Instant now = Instant.now();
        ArrayNode list = Exchange.JSON.createArrayNode();
        for (Container c : service.get().list(all || limit > 0)) { // newest first
            if (limit > 0 && list.size() >= limit) {
                break;
            }
            if (filter.matches(c)) {
                list.add(summary(c, now));
            }
        }
        x.json(HttpStatus.OK_200, list);
    }

    /** One entry of {@code GET /containers/json}. */
    static ObjectNode summary(Container c, Instant now) {
        ObjectNode s = Exchange.JSON.createObjectNode();
        s.put("Id", c.id());
        s.putArray("Names").add(c.name());
        s.put("Image", c.config().image());
        s.put("ImageID", c.image());
        s.put("Command", String.join(" ", c.commandLine()));
        s.put("Created", Instant.parse(c.created()).getEpochSecond());
        ArrayNode ports = s.putArray("Ports");
        Container.NetworkSettings settings = c.networkSettings() == null ? Container.NetworkSettings.NONE
                : c.networkSettings();
        settings.ports().forEach((port, bindings) -> {
            String[] parts = port.split("/", 2);
            for (HostConfig.PortBinding binding : bindings) {
                ports.addObject().put("IP", binding.hostIp()).put("PrivatePort", Integer.parseInt(parts[0]))
                        .put("PublicPort", Integer.parseInt(binding.hostPort()))
                        .put("Type", parts.length == 2 ? parts[1] : "tcp");
            }
        });
        s.set("Labels", Exchange.JSON.valueToTree(c.config().labels() == null ? java.util.Map.of()
                : c.config().labels()));
        s.put("State", c.state().status());
        s.put("Status", c.state().describe(now));
        String network = c.hostConfig().networkMode();
        s.putObject("HostConfig").put("NetworkMode", network == null || network.isEmpty() ? "default" : network);
        s.putObject("NetworkSettings").putObject("Networks");
        s.set("Mounts", Exchange.JSON.valueToTree(c.mounts() == null ? List.of() : c.mounts()));
        return s;
    }

    private void create(Exchange x) throws IOException {
        JsonNode body = x.bodyTree();
        if (body == null) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "config cannot be empty in order to create a container");
        }
        ContainerConfig config;
        HostConfig host;
        try {
            config = Exchange.JSON.treeToValue(body, ContainerConfig.class);
            JsonNode hostNode = body.get("HostConfig");
            host = hostNode == null || hostNode.isNull() ? null : Exchange.JSON.treeToValue(hostNode, HostConfig.class);
        } catch (IOException e) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "invalid JSON: " + Exchange.firstLine(e.getMessage()));
        }
        java.util.Map<String, List<String>> aliases = new java.util.TreeMap<>();
        body.path("NetworkingConfig").path("EndpointsConfig").fields().forEachRemaining(network -> {
            List<String> names = new java.util.ArrayList<>();
            network.getValue().path("Aliases").forEach(alias -> names.add(alias.asText()));
            aliases.put(network.getKey(), names);
        });
        Container created = service.get().create(x.query("name"), config, host, aliases);
        ObjectNode answer = Exchange.JSON.createObjectNode().put("Id", created.id());
        answer.putArray("Warnings");
        x.json(HttpStatus.CREATED_201, answer);
    }

    /** The fields of {@code POST /containers/{id}/update} that berth applies; the CLI sends the others empty. */
    private static final List<String> UPDATABLE = List.of("Memory", "MemorySwap", "NanoCpus", "CpuShares",
            "PidsLimit", "RestartPolicy");

    /** {@code docker update}: a field berth cannot change yet is refused unless it is empty, so nothing is lost. */
    private void update(Exchange x) throws IOException {
        JsonNode body = x.bodyTree();
        if (body == null) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "the update is empty: give the limits to change");
        }
        body.fields().forEachRemaining(field -> {
            JsonNode value = field.getValue();
            boolean empty = value.isNull() || (value.isNumber() && value.asLong() == 0)
                    || (value.isTextual() && value.asText().isEmpty()) || (value.isBoolean() && !value.asBoolean())
                    || (value.isContainerNode() && value.isEmpty());
            if (!empty && !UPDATABLE.contains(field.getKey())) {
                throw new ApiException(HttpStatus.BAD_REQUEST_400, "berth cannot update " + field.getKey()
                        + ": it updates " + String.join(", ", UPDATABLE));
            }
        });
        ContainerUpdate update;
        try {
            update = Exchange.JSON.treeToValue(body, ContainerUpdate.class);
        } catch (IOException e) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "invalid JSON: " + Exchange.firstLine(e.getMessage()));
        }
        service.get().update(x.path("id"), update);
        x.json(HttpStatus.OK_200, Exchange.JSON.createObjectNode().set("Warnings", Exchange.JSON.createArrayNode()));
    }

    private void inspect(Exchange x) throws IOException {
        x.json(HttpStatus.OK_200, service.get().inspect(x.path("id")));
    }

    /** Starts it, attached if an attach waits for that ({@code docker run} attaches first, then starts). */
    private void start(Exchange x) throws IOException {
        String id = x.path("id");
        boolean started = streams.startAwaited(id) || service.get().start(id);
        x.status(started ? HttpStatus.NO_CONTENT_204 : HttpStatus.NOT_MODIFIED_304);
    }

    private void stop(Exchange x) throws IOException {
        boolean stopped = service.get().stop(x.path("id"), timeout(x));
        x.status(stopped ? HttpStatus.NO_CONTENT_204 : HttpStatus.NOT_MODIFIED_304);
    }

    private void restart(Exchange x) throws IOException {
        service.get().restart(x.path("id"), timeout(x));
        x.status(HttpStatus.NO_CONTENT_204);
    }

    /** {@code t} (the CLI's {@code --time}), or {@code timeout} as API 1.42 renamed it; null for the default. */
    private static Integer timeout(Exchange x) {
        Integer t = x.integer("t", null);
        return t != null ? t : x.integer("timeout", null);
    }

    private void kill(Exchange x) throws IOException {
        String signal = x.query("signal");
        service.get().kill(x.path("id"), signal == null || signal.isEmpty() ? "KILL" : signal);
        x.status(HttpStatus.NO_CONTENT_204);
    }

    private void remove(Exchange x) throws IOException {
        service.get().remove(x.path("id"), x.flag("force"), x.flag("v"));
        x.status(HttpStatus.NO_CONTENT_204);
    }

    /**
     * Sends the headers at once, as dockerd does (the CLI's {@code run} waits for them before it starts the
     * container), and the exit status when the condition is met.
     */
    private void await(Exchange x) throws Exception {
        String condition = x.query("condition");
        WaitCondition when = switch (condition == null || condition.isEmpty() ? "not-running" : condition) {
            case "not-running" -> WaitCondition.NOT_RUNNING;
            case "next-exit" -> WaitCondition.NEXT_EXIT;
            case "removed" -> WaitCondition.REMOVED;
            default -> throw new ApiException(HttpStatus.BAD_REQUEST_400, "invalid condition: \"" + condition
                    + "\": use not-running, next-exit or removed");
        };
        var exit = service.get().wait(x.path("id"), when);
        x.stream(HttpStatus.OK_200, "application/json", out -> {
            out.flush(); // the headers go now
            int code;
            try {
                code = exit.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting", e);
            } catch (ExecutionException e) {
                ObjectNode failed = Exchange.JSON.createObjectNode().put("StatusCode", -1);
                failed.putObject("Error").put("Message", String.valueOf(e.getCause().getMessage()));
                out.write((Exchange.JSON.writeValueAsString(failed) + "\n").getBytes());
                return;
            }
            ObjectNode answer = Exchange.JSON.createObjectNode().put("StatusCode", code);
            out.write((Exchange.JSON.writeValueAsString(answer) + "\n").getBytes());
        });
    }

    /** Logs, raw when the container has a TTY, else in Docker's 8-byte-header frames. */
    private void logs(Exchange x) throws IOException {
        String id = x.path("id");
        boolean stdout = x.flag("stdout");
        boolean stderr = x.flag("stderr");
        if (!stdout && !stderr) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "Bad parameters: you must choose at least one stream");
        }
        boolean tty = service.get().inspect(id).config().tty();
        String tail = x.query("tail");
        int lines;
        try {
            lines = tail == null || tail.isEmpty() || tail.equals("all") ? -1 : Integer.parseInt(tail);
        } catch (NumberFormatException e) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "invalid tail: \"" + tail + "\"");
        }
        LogOptions options = new LogOptions(stdout, stderr, x.flag("follow"), lines, time(x, "since"), time(x, "until"));
        boolean timestamps = x.flag("timestamps");
        try (LogReader reader = service.get().logs(id, options)) {
            x.stream(HttpStatus.OK_200, tty ? RAW : MULTIPLEXED, out -> {
                out.flush();
                for (LogReader.Entry entry = reader.next(); entry != null; entry = reader.next()) {
                    byte[] data = timestamps ? withTimestamp(entry) : entry.data();
                    if (tty) {
                        out.write(data);
                    } else {
                        writeFrame(out, entry.stream(), data);
                    }
                    out.flush();
                }
            });
        }
    }

    private static byte[] withTimestamp(LogReader.Entry entry) {
        byte[] stamp = (java.time.format.DateTimeFormatter.ISO_INSTANT.format(entry.time()) + " ").getBytes();
        byte[] data = new byte[stamp.length + entry.data().length];
        System.arraycopy(stamp, 0, data, 0, stamp.length);
        System.arraycopy(entry.data(), 0, data, stamp.length, entry.data().length);
        return data;
    }

    /** Docker's stream frame: the stream (1 stdout, 2 stderr), three zero bytes, the length big-endian. */
    static void writeFrame(OutputStream out, int stream, byte[] data) throws IOException {
        out.write(new byte[] {(byte) stream, 0, 0, 0, (byte) (data.length >>> 24), (byte) (data.length >>> 16),
                (byte) (data.length >>> 8), (byte) data.length});
        out.write(data);
    }

    /** {@code since}/{@code until}: Unix seconds with an optional fraction, as the CLI sends them; 0 is none. */
    private static Instant time(Exchange x, String name) {
        String value = x.query(name);
        if (value == null || value.isEmpty() || value.equals("0")) {
            return null;
        }
        try {
            java.math.BigDecimal seconds = new java.math.BigDecimal(value);
            return Instant.ofEpochSecond(seconds.longValue(),
                    seconds.remainder(java.math.BigDecimal.ONE).movePointRight(9).longValue());
        } catch (NumberFormatException | ArithmeticException | DateTimeParseException e) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "invalid " + name + ": \"" + value
                    + "\" is not a Unix timestamp");
        }
    }

    private void top(Exchange x) throws IOException {
        String psArgs = x.query("ps_args");
        Top top = service.get().top(x.path("id"), psArgs == null || psArgs.isEmpty() ? "-ef" : psArgs);
        ObjectNode answer = Exchange.JSON.createObjectNode();
        answer.set("Titles", Exchange.JSON.valueToTree(top.titles()));
        answer.set("Processes", Exchange.JSON.valueToTree(top.processes()));
        x.json(HttpStatus.OK_200, answer);
    }

    private void changes(Exchange x) throws IOException {
        ArrayNode answer = Exchange.JSON.createArrayNode();
        for (Change change : service.get().changes(x.path("id"))) {
            int kind = switch (change.kind()) {
                case MODIFIED -> 0;
                case ADDED -> 1;
                case DELETED -> 2;
            };
            answer.addObject().put("Path", change.path()).put("Kind", kind);
        }
        x.json(HttpStatus.OK_200, answer);
    }

    private void export(Exchange x) throws IOException {
        String id = x.path("id");
        service.get().inspect(id); // a 404 before the stream starts
        x.stream(HttpStatus.OK_200, "application/x-tar", out -> service.get().export(id, out));
    }

    /** {@code docker commit}: {@code container}, {@code repo}, {@code tag}, {@code comment}, {@code author}, {@code changes}. */
    private void commit(Exchange x) throws IOException {
        String container = required(x, "container");
        String repo = x.query("repo");
        String tag = x.query("tag");
        String reference = repo == null || repo.isEmpty() ? null
                : tag == null || tag.isEmpty() ? repo : repo + ":" + tag;
        String pause = x.query("pause");
        boolean pauseIt = pause == null || pause.isEmpty() || x.flag("pause"); // dockerd pauses unless told not to
        Image image = service.get().commit(container, new CommitRequest(reference, orEmpty(x.query("comment")),
                orEmpty(x.query("author")), x.queryValues("changes"), pauseIt));
        x.json(HttpStatus.CREATED_201, java.util.Map.of("Id", image.id()));
    }

    private static String orEmpty(String text) {
        return text == null ? "" : text;
    }

    private void prune(Exchange x) throws IOException {
        ObjectNode answer = Exchange.JSON.createObjectNode();
        answer.set("ContainersDeleted", Exchange.JSON.valueToTree(service.get().prune()));
        answer.put("SpaceReclaimed", 0);
        x.json(HttpStatus.OK_200, answer);
    }

    private interface Action {
        void run() throws IOException;
    }

    private static void noContent(Exchange x, Action action) throws IOException {
        action.run();
        x.status(HttpStatus.NO_CONTENT_204);
    }

    private static String required(Exchange x, String name) {
        String value = x.query(name);
        if (value == null || value.isEmpty()) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "the query parameter " + name + " is required");
        }
        return value;
    }
}
