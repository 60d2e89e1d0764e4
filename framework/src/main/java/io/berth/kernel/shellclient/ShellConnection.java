package io.berth.kernel.shellclient;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.InputStreamResponseListener;
import org.eclipse.jetty.client.OutputStreamRequestContent;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.StringRequestContent;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.io.Transport;

/**
 * The client side of the Engine API's shell endpoints
 * ({@code /berth/v1/shell/...}), over the daemon's unix socket.
 * Command output arrives as JSON lines: {@code {"stream":"stdout","text":...}}
 * (or {@code "data"}, base64, for bytes that are not text) while the command
 * runs, then {@code {"exitCode":N}}.
 *
 * <p>A command's stdin and terminal: the exec request names the command with an
 * id of the client's choosing and says whether stdin is a terminal. Only when
 * the command reads stdin ({@code {"stdin":true}}) does the client stream its
 * stdin as the body of a second request, {@code POST input/ID} (the body's end
 * is EOF). On {@code {"raw":true}} it puts its terminal into raw mode and
 * reports the window size ({@code POST resize/ID}), again on every SIGWINCH;
 * {@code {"raw":false}}, the command's end or an error restores the terminal.
 */
final class ShellConnection implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path socket;
    private final HttpClient http;

    ShellConnection(Path socket) throws IOException {
        this.socket = socket;
        this.http = new HttpClient();
        http.setUserAgentField(null);
        try {
            http.start();
        } catch (Exception e) {
            throw new IOException("cannot start the HTTP client: " + e.getMessage(), e);
        }
    }

    private Request request(HttpMethod method, String path) {
        return http.newRequest("http://berth" + path).method(method).transport(new Transport.TCPUnix(socket));
    }

    /** Opens a session on the daemon and returns its id. */
    String openSession() throws IOException {
        return call(request(HttpMethod.POST, "/berth/v1/shell/sessions")).path("Id").asText();
    }

    void closeSession(String id) throws IOException {
        call(request(HttpMethod.DELETE, "/berth/v1/shell/sessions/" + id));
    }

    List<String> complete(String session, String line, int cursor) throws IOException {
        ObjectNode body = JSON.createObjectNode().put("Session", session).put("Line", line).put("Cursor", cursor);
        JsonNode answer = call(request(HttpMethod.POST, "/berth/v1/shell/complete")
                .body(new StringRequestContent("application/json", body.toString())));
        List<String> candidates = new ArrayList<>();
        answer.path("Candidates").forEach(node -> candidates.add(node.asText()));
        return candidates;
    }

    /**
     * Runs one command line in {@code session} (or a session of its own when
     * {@code null}), copying its output as it comes and giving it {@code input}
     * if it reads stdin; returns its exit status.
     */
    int execute(String session, String commandLine, PrintStream out, PrintStream err, CallerInput input)
            throws IOException {
        String id = UUID.randomUUID().toString();
        ObjectNode body = JSON.createObjectNode().put("Command", commandLine).put("Id", id)
                .put("Tty", input.isTerminal());
        if (session != null) {
            body.put("Session", session);
        }
        InputStreamResponseListener listener = new InputStreamResponseListener();
        request(HttpMethod.POST, "/berth/v1/shell/exec")
                .body(new StringRequestContent("application/json", body.toString()))
                .idleTimeout(0, TimeUnit.MILLISECONDS)
                .send(listener);
        Response response = await(listener);
        try (InputStream in = listener.getInputStream(); RemoteCommand command = new RemoteCommand(id, input)) {
            if (response.getStatus() != 200) {
                throw new IOException(errorMessage(response.getStatus(), new String(in.readAllBytes(), StandardCharsets.UTF_8)));
            }
            BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode message = JSON.readTree(line);
                if (message.has("exitCode")) {
                    return message.get("exitCode").asInt();
                } else if (message.has("stdin")) {
                    command.sendStdin();
                } else if (message.has("raw")) {
                    command.raw(message.get("raw").asBoolean());
                } else {
                    PrintStream target = "stderr".equals(message.path("stream").asText()) ? err : out;
                    if (message.has("data")) {
                        target.write(Base64.getDecoder().decode(message.get("data").asText()));
                    } else {
                        target.print(message.path("text").asText());
                    }
                    target.flush();
                }
            }
        }
        throw new IOException("the daemon closed the connection before the command finished");
    }

    /** The client's side of one running command's stdin and terminal. */
    private final class RemoteCommand implements AutoCloseable {
        private final String id;
        private final CallerInput input;
        private Thread stdinPump;
        private Request stdinRequest;
        private org.jline.terminal.Attributes cooked;
        private org.jline.terminal.Terminal.SignalHandler previousWinch;

        RemoteCommand(String id, CallerInput input) {
            this.id = id;
            this.input = input;
        }

        /** Streams stdin to the command, from a thread of its own, until its end or the command's. */
        void sendStdin() {
            if (stdinPump != null) {
                return;
            }
            OutputStreamRequestContent content = new OutputStreamRequestContent("application/octet-stream");
            stdinRequest = request(HttpMethod.POST, "/berth/v1/shell/input/" + id).body(content)
                    .idleTimeout(0, TimeUnit.MILLISECONDS);
            stdinRequest.send(result -> { });
            InputStream from = input.stdin(cooked != null);
            stdinPump = new Thread(() -> {
                byte[] buffer = new byte[8192];
                try (var to = content.getOutputStream()) {
                    for (int n = from.read(buffer); n >= 0; n = from.read(buffer)) {
                        to.write(buffer, 0, n);
                        to.flush();
                    }
                } catch (IOException e) {
                    // the command has ended, or the daemon has gone: the exec's answer says which
                }
            }, "berth-shell-stdin");
            stdinPump.setDaemon(true);
            stdinPump.start();
        }

        /** Puts the terminal into raw mode and reports its size (and every change of it), or restores it. */
        void raw(boolean raw) throws IOException {
            if (!input.isTerminal()) {
                return;
            }
            org.jline.terminal.Terminal terminal = input.terminal();
            if (raw && cooked == null) {
                cooked = terminal.enterRawMode();
                // the rest of docker's raw mode (cfmakeraw): ctrl-c and ctrl-z go to the container as keys, its
                // output is shown as it is, and a read waits for a key (JLine's would return nothing: EOF to Java)
                org.jline.terminal.Attributes attributes = terminal.getAttributes();
                attributes.setLocalFlag(org.jline.terminal.Attributes.LocalFlag.ISIG, false);
                attributes.setOutputFlag(org.jline.terminal.Attributes.OutputFlag.OPOST, false);
                attributes.setControlChar(org.jline.terminal.Attributes.ControlChar.VMIN, 1);
                attributes.setControlChar(org.jline.terminal.Attributes.ControlChar.VTIME, 0);
                terminal.setAttributes(attributes);
                previousWinch = terminal.handle(org.jline.terminal.Terminal.Signal.WINCH, signal -> reportSize(terminal));
                reportSize(terminal);
            } else if (!raw && cooked != null) {
                restore(terminal);
            }
        }

        /** Best effort: the command may have ended (and its answer says how) before the size arrives. */
        private void reportSize(org.jline.terminal.Terminal terminal) {
            org.jline.terminal.Size size = terminal.getSize();
            ObjectNode body = JSON.createObjectNode().put("Rows", size.getRows()).put("Columns", size.getColumns());
            try {
                call(request(HttpMethod.POST, "/berth/v1/shell/resize/" + id)
                        .body(new StringRequestContent("application/json", body.toString())));
            } catch (IOException e) {
                // the command has ended
            }
        }

        private void restore(org.jline.terminal.Terminal terminal) {
            terminal.setAttributes(cooked);
            terminal.handle(org.jline.terminal.Terminal.Signal.WINCH, previousWinch);
            cooked = null;
        }

        @Override
        public void close() {
            if (cooked != null) {
                try {
                    restore(input.terminal());
                } catch (IOException ignored) {
                    // the terminal was made already
                }
            }
            if (stdinPump != null) {
                stdinPump.interrupt();
                stdinRequest.abort(new IOException("the command has ended"));
                try {
                    stdinPump.join(1000); // on the console: its line reader gives the terminal back first
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    private JsonNode call(Request request) throws IOException {
        ContentResponse response;
        try {
            response = request.timeout(30, TimeUnit.SECONDS).send();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } catch (TimeoutException | ExecutionException e) {
            throw unreachable(e);
        }
        String text = response.getContentAsString();
        if (response.getStatus() / 100 != 2) {
            throw new IOException(errorMessage(response.getStatus(), text));
        }
        return text.isBlank() ? JSON.createObjectNode() : JSON.readTree(text);
    }

    private Response await(InputStreamResponseListener listener) throws IOException {
        try {
            return listener.get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } catch (TimeoutException | ExecutionException e) {
            throw unreachable(e);
        }
    }

    private IOException unreachable(Exception e) {
        Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        return new IOException("cannot reach the berth daemon at unix://" + socket + " (" + cause.getMessage()
                + "); is berthd running?", cause);
    }

    private static String errorMessage(int status, String body) {
        try {
            JsonNode node = JSON.readTree(body);
            if (node != null && node.has("message")) {
                return node.get("message").asText();
            }
        } catch (IOException ignored) {
            // not JSON: show it as it is
        }
        return "the daemon answered " + status + ": " + body;
    }

    @Override
    public void close() {
        try {
            http.stop();
        } catch (Exception ignored) {
            // exiting anyway
        }
    }
}
