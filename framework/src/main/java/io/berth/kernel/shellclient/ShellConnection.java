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
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.InputStreamResponseListener;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.StringRequestContent;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.io.Transport;

/**
 * The client side of the Engine API's shell endpoints
 * ({@code /berth/v1/shell/...}), over the daemon's unix socket.
 * Command output arrives as JSON lines: {@code {"stream":"stdout","text":...}}
 * while the command runs, then {@code {"exitCode":N}}.
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
     * {@code null}), copying its output as it comes; returns its exit status.
     */
    int execute(String session, String commandLine, PrintStream out, PrintStream err) throws IOException {
        ObjectNode body = JSON.createObjectNode().put("Command", commandLine);
        if (session != null) {
            body.put("Session", session);
        }
        InputStreamResponseListener listener = new InputStreamResponseListener();
        request(HttpMethod.POST, "/berth/v1/shell/exec")
                .body(new StringRequestContent("application/json", body.toString()))
                .idleTimeout(0, TimeUnit.MILLISECONDS)
                .send(listener);
        Response response = await(listener);
        try (InputStream in = listener.getInputStream()) {
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
                }
                PrintStream target = "stderr".equals(message.path("stream").asText()) ? err : out;
                target.print(message.path("text").asText());
                target.flush();
            }
        }
        throw new IOException("the daemon closed the connection before the command finished");
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
