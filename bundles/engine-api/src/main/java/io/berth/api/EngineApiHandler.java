package io.berth.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.spi.shell.CommandShell;
import io.berth.spi.shell.ShellSession;
import io.berth.spi.shell.TerminalSize;
import java.io.InputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Routes Engine API requests: {@code /_ping}, {@code /version}, berth's
 * management extension {@code /berth/v1/shell/...} (runs shell commands and
 * streams their output), and the endpoints of {@link Routes}.
 *
 * <p>The shell's wire: {@code POST exec} with {@code {"Command":..., "Session":...}} answers with the command's
 * output as JSON lines (see {@link JsonLinesOutput}) until its exit code. A client that can give the command its
 * stdin also sends an id of its choosing ({@code "Id"}), and {@code "Tty":true} when its stdin is a terminal.
 * When the command first reads stdin, the output says {@code {"stdin":true}} and the client streams its stdin
 * as the body of {@code POST input/ID}; the end of that body is the command's EOF. Commands that never read
 * stdin never cause that request, so they cost what they did before. A command that wants the terminal raw
 * says {@code {"raw":true}}; the client enters raw mode and reports its window size with
 * {@code POST resize/ID {"Rows":R,"Columns":C}}, again on every SIGWINCH, and restores its terminal on
 * {@code {"raw":false}} or when the command ends.
 */
final class EngineApiHandler extends Handler.Abstract {

    static final String SHELL_PREFIX = "/berth/v1/shell/";

    private final ObjectMapper json = new ObjectMapper();
    private final String berthVersion;
    private final Supplier<CommandShell> shell;
    private final ShellSessions sessions = new ShellSessions();
    private final Routes routes;
    /** The commands running for clients that gave an id: their stdin and terminal. */
    private final Map<String, RemoteCaller> callers = new ConcurrentHashMap<>();

    /** @param routes the Engine API's endpoints beyond ping, version and the shell */
    EngineApiHandler(String berthVersion, Supplier<CommandShell> shell, Routes routes) {
        this.berthVersion = berthVersion;
        this.shell = shell;
        this.routes = routes;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        response.getHeaders().put("Api-Version", ApiVersion.MAX);
        response.getHeaders().put("Ostype", "linux");
        response.getHeaders().put(HttpHeader.SERVER, "berth/" + berthVersion + " (linux)");
        response.getHeaders().put("Docker-Experimental", "false");
        String rawPath = Request.getPathInContext(request);
        String versionProblem = ApiVersion.problem(rawPath);
        if (versionProblem != null) {
            error(response, callback, HttpStatus.BAD_REQUEST_400, versionProblem);
            return true;
        }
        String path = ApiVersion.strip(rawPath);
        String method = request.getMethod();
        try {
            route(method, path, request, response, callback);
        } catch (BadRequest e) {
            error(response, callback, HttpStatus.BAD_REQUEST_400, e.getMessage());
        }
        return true;
    }

    private void route(String method, String path, Request request, Response response, Callback callback)
            throws Exception {
        if (path.equals("/_ping") && (HttpMethod.GET.is(method) || HttpMethod.HEAD.is(method))) {
            ping(method, response, callback);
        } else if (path.equals("/version") && HttpMethod.GET.is(method)) {
            sendJson(response, callback, HttpStatus.OK_200, version());
        } else if (path.startsWith(SHELL_PREFIX)) {
            shellEndpoint(method, path.substring(SHELL_PREFIX.length()), request, response, callback);
        } else if (!routes.dispatch(method, path, request, response, callback)) {
            error(response, callback, HttpStatus.NOT_FOUND_404, "page not found");
        }
    }

    private void ping(String method, Response response, Callback callback) {
        response.getHeaders().put("Builder-Version", "1");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache, no-store, must-revalidate");
        response.getHeaders().put(HttpHeader.PRAGMA, "no-cache");
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
        response.setStatus(HttpStatus.OK_200);
        if (HttpMethod.HEAD.is(method)) {
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 0L);
            response.write(true, null, callback);
        } else {
            Content.Sink.write(response, true, "OK", callback);
        }
    }

    private ObjectNode version() {
        String arch = architecture();
        String kernel = kernelVersion();
        ObjectNode body = json.createObjectNode();
        body.putObject("Platform").put("Name", "berth " + berthVersion);
        ObjectNode engine = body.putArray("Components").addObject();
        engine.put("Name", "Engine").put("Version", berthVersion);
        engine.putObject("Details")
                .put("ApiVersion", ApiVersion.MAX).put("MinAPIVersion", ApiVersion.MIN)
                .put("Os", "linux").put("Arch", arch).put("KernelVersion", kernel)
                .put("Experimental", "false");
        body.put("Version", berthVersion)
                .put("ApiVersion", ApiVersion.MAX)
                .put("MinAPIVersion", ApiVersion.MIN)
                .put("GitCommit", "")
                .put("GoVersion", "java" + Runtime.version().feature())
                .put("Os", "linux")
                .put("Arch", arch)
                .put("KernelVersion", kernel);
        return body;
    }

    private void shellEndpoint(String method, String rest, Request request, Response response, Callback callback)
            throws Exception {
        CommandShell current = shell.get();
        if (current == null) {
            error(response, callback, HttpStatus.SERVICE_UNAVAILABLE_503, "the shell is not running (bundle io.berth.shell)");
            return;
        }
        if (rest.equals("sessions") && HttpMethod.POST.is(method)) {
            sendJson(response, callback, HttpStatus.CREATED_201, json.createObjectNode().put("Id", sessions.open(current)));
        } else if (rest.startsWith("sessions/") && HttpMethod.DELETE.is(method)) {
            String id = rest.substring("sessions/".length());
            if (sessions.close(id)) {
                response.setStatus(HttpStatus.NO_CONTENT_204);
                response.write(true, null, callback);
            } else {
                error(response, callback, HttpStatus.NOT_FOUND_404, "no such shell session: " + id);
            }
        } else if (rest.equals("exec") && HttpMethod.POST.is(method)) {
            exec(current, readJson(request), response, callback);
        } else if (rest.startsWith("input/") && HttpMethod.POST.is(method)) {
            input(rest.substring("input/".length()), request, response, callback);
        } else if (rest.startsWith("resize/") && HttpMethod.POST.is(method)) {
            resize(rest.substring("resize/".length()), readJson(request), response, callback);
        } else if (rest.equals("complete") && HttpMethod.POST.is(method)) {
            JsonNode body = readJson(request);
            String line = requiredText(body, "Line");
            int cursor = body.path("Cursor").asInt(line.length());
            ShellSession session = session(body, response, callback);
            if (session == null) {
                return;
            }
            List<String> candidates = session.complete(line, cursor);
            ObjectNode answer = json.createObjectNode();
            candidates.forEach(answer.putArray("Candidates")::add);
            sendJson(response, callback, HttpStatus.OK_200, answer);
        } else {
            error(response, callback, HttpStatus.NOT_FOUND_404, "page not found");
        }
    }

    private void exec(CommandShell current, JsonNode body, Response response, Callback callback) throws Exception {
        String command = requiredText(body, "Command");
        String callerId = body.hasNonNull("Id") ? requiredText(body, "Id") : null;
        if (callerId != null && (callerId.isEmpty() || callers.containsKey(callerId))) {
            throw new BadRequest("\"Id\" must be a new, non-empty id for this command: " + callerId);
        }
        boolean ownSession = !body.hasNonNull("Session");
        ShellSession session = ownSession ? current.openSession() : session(body, response, callback);
        if (session == null) {
            return;
        }
        response.setStatus(HttpStatus.OK_200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/x-ndjson");
        try (OutputStream out = Content.Sink.asOutputStream(response)) {
            JsonLinesOutput lines = new JsonLinesOutput(json, out);
            int exitCode;
            if (callerId == null) {
                exitCode = session.execute(command, lines.stream("stdout"), lines.stream("stderr"));
            } else {
                RemoteCaller caller = new RemoteCaller(lines, body.path("Tty").asBoolean(false));
                callers.put(callerId, caller);
                try (InputStream stdin = caller.stdin) {
                    exitCode = session.execute(command, stdin, lines.stream("stdout"), lines.stream("stderr"),
                            caller.terminal);
                } finally {
                    callers.remove(callerId);
                }
            }
            lines.exit(exitCode);
        } finally {
            if (ownSession) {
                session.close();
            }
        }
        callback.succeeded();
    }

    /** A remote client's stdin and terminal (null when its stdin is not one), for one command. */
    private static final class RemoteCaller {
        final RemoteStdin stdin;
        final RemoteTerminal terminal;

        RemoteCaller(JsonLinesOutput lines, boolean tty) {
            this.stdin = new RemoteStdin(() -> {
                try {
                    lines.stdinWanted();
                } catch (IOException e) {
                    // the client has gone; the command reads the end of its stdin
                }
            });
            this.terminal = tty ? new RemoteTerminal(lines::raw) : null;
        }
    }

    /** {@code POST input/ID}: the body, as it streams in, is the command's stdin; its end is EOF. */
    private void input(String id, Request request, Response response, Callback callback) throws Exception {
        RemoteCaller caller = callers.get(id);
        if (caller == null) {
            error(response, callback, HttpStatus.NOT_FOUND_404, "no such shell command: " + id);
            return;
        }
        boolean open = true;
        try (InputStream body = Content.Source.asInputStream(request)) {
            byte[] buffer = new byte[64 * 1024];
            for (int n = body.read(buffer); n >= 0 && open; n = body.read(buffer)) {
                open = caller.stdin.feed(java.util.Arrays.copyOf(buffer, n));
            }
        } catch (IOException e) {
            // the client went away: its stdin ends here
        }
        if (open) {
            caller.stdin.endOfInput();
        }
        response.setStatus(HttpStatus.NO_CONTENT_204);
        response.write(true, null, callback);
    }

    /**
     * {@code POST resize/ID}: the client's window size, at the start of raw mode and on every change; 0 rows or
     * columns when its terminal does not know (a pty nobody sized).
     */
    private void resize(String id, JsonNode body, Response response, Callback callback) throws Exception {
        RemoteCaller caller = callers.get(id);
        if (caller == null || caller.terminal == null) {
            error(response, callback, HttpStatus.NOT_FOUND_404, "no shell command with a terminal: " + id);
            return;
        }
        int rows = body.path("Rows").asInt(-1);
        int columns = body.path("Columns").asInt(-1);
        if (rows < 0 || columns < 0) {
            throw new BadRequest("\"Rows\" and \"Columns\" must be numbers, 0 or more (0: not known)");
        }
        caller.terminal.resized(new TerminalSize(rows, columns));
        response.setStatus(HttpStatus.NO_CONTENT_204);
        response.write(true, null, callback);
    }

    /** The session a request names, or {@code null} after answering 404. */
    private ShellSession session(JsonNode body, Response response, Callback callback) throws BadRequest {
        String id = requiredText(body, "Session");
        ShellSession session = sessions.use(id);
        if (session == null) {
            error(response, callback, HttpStatus.NOT_FOUND_404, "no such shell session: " + id);
        }
        return session;
    }

    private JsonNode readJson(Request request) throws BadRequest {
        String text;
        try {
            text = Content.Source.asString(request, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new BadRequest("cannot read the request body: " + e.getMessage());
        }
        if (text.isBlank()) {
            throw new BadRequest("the request needs a JSON body");
        }
        try {
            JsonNode node = json.readTree(text);
            if (!node.isObject()) {
                throw new BadRequest("the request body must be a JSON object");
            }
            return node;
        } catch (IOException e) {
            throw new BadRequest("invalid JSON in the request body: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    private static String requiredText(JsonNode body, String field) throws BadRequest {
        JsonNode value = body.get(field);
        if (value == null || !value.isTextual()) {
            throw new BadRequest("\"" + field + "\" is required and must be a string");
        }
        return value.textValue();
    }

    private void sendJson(Response response, Callback callback, int status, JsonNode body) throws IOException {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        Content.Sink.write(response, true, json.writeValueAsString(body) + "\n", callback);
    }

    /** Docker's error shape: {@code {"message": ...}} with Content-Type exactly application/json. */
    private void error(Response response, Callback callback, int status, String message) {
        try {
            sendJson(response, callback, status, json.createObjectNode().put("message", message));
        } catch (IOException e) {
            callback.failed(e);
        }
    }

    void closeSessions() {
        sessions.closeAll();
    }

    private static String architecture() {
        String arch = System.getProperty("os.arch");
        return switch (arch) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64" -> "arm64";
            default -> arch;
        };
    }

    private static String kernelVersion() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        } catch (IOException e) {
            return System.getProperty("os.version");
        }
    }

    /** A request berth cannot act on; answered with 400 and the message. */
    static final class BadRequest extends Exception {
        private static final long serialVersionUID = 1L;

        BadRequest(String message) {
            super(message);
        }
    }
}
