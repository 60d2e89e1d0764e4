package io.berth.api;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

/**
 * One Engine API request and its answer: path and query parameters as the docker CLI sends them, the JSON body,
 * and Docker's ways of answering (JSON, an empty status, a stream).
 */
final class Exchange {

    /** Reads request bodies leniently (clients send fields of newer API versions); writes only what is set. */
    static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    /** The largest JSON body read (dockerd's limit for a create request is far below this). */
    private static final int MAX_JSON_BODY = 16 << 20;

    final Request request;
    final org.eclipse.jetty.server.Response response;
    final Callback callback;
    private final Matcher path;
    private Fields query;

    Exchange(Request request, org.eclipse.jetty.server.Response response, Callback callback, Matcher path) {
        this.request = request;
        this.response = response;
        this.callback = callback;
        this.path = path;
    }

    /** A named group of the route's path pattern, e.g. the container in {@code /containers/(?<id>[^/]+)/start}. */
    String path(String name) {
        return java.net.URLDecoder.decode(path.group(name), StandardCharsets.UTF_8);
    }

    /** A query parameter, or null. */
    String query(String name) {
        if (query == null) {
            query = Request.extractQueryParameters(request, StandardCharsets.UTF_8);
        }
        Fields.Field field = query.get(name);
        return field == null ? null : field.getValue();
    }

    /** Every value of a repeated query parameter. */
    List<String> queryValues(String name) {
        query(name);
        Fields.Field field = query.get(name);
        return field == null ? List.of() : field.getValues();
    }

    /** A boolean parameter as dockerd reads them: absent, empty, {@code 0}, {@code false} or {@code no} are false. */
    boolean flag(String name) {
        String value = query(name);
        return value != null && !value.isEmpty() && !value.equals("0") && !value.equalsIgnoreCase("false")
                && !value.equalsIgnoreCase("no");
    }

    /** An integer parameter, or {@code fallback} when absent. */
    Integer integer(String name, Integer fallback) {
        String value = query(name);
        if (value == null || value.isEmpty()) {
            return fallback;
        }
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "invalid value for " + name + ": \"" + value
                    + "\" is not an integer");
        }
    }

    /** The {@code filters} parameter: a JSON object of lists ({@code {"status":["running"]}}) or of maps (old). */
    Map<String, List<String>> filters() {
        String text = query("filters");
        if (text == null || text.isBlank()) {
            return Map.of();
        }
        try {
            JsonNode node = JSON.readTree(text);
            if (!node.isObject()) {
                throw new ApiException(HttpStatus.BAD_REQUEST_400, "invalid filter: filters must be a JSON object");
            }
            Map<String, List<String>> filters = new java.util.TreeMap<>();
            node.fields().forEachRemaining(entry -> {
                List<String> values = new java.util.ArrayList<>();
                if (entry.getValue().isArray()) {
                    entry.getValue().forEach(v -> values.add(v.asText()));
                } else if (entry.getValue().isObject()) {
                    entry.getValue().fieldNames().forEachRemaining(values::add); // {"status":{"running":true}}
                } else {
                    throw new ApiException(HttpStatus.BAD_REQUEST_400, "invalid filter '" + entry.getKey() + "'");
                }
                filters.put(entry.getKey(), values);
            });
            return filters;
        } catch (IOException e) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "invalid filter: " + firstLine(e.getMessage()));
        }
    }

    /** The body as JSON of type {@code type}; an empty body is {@code fallback}. */
    <T> T body(Class<T> type, T fallback) throws IOException {
        JsonNode node = bodyTree();
        if (node == null) {
            return fallback;
        }
        try {
            return JSON.treeToValue(node, type);
        } catch (IOException e) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "invalid JSON: " + firstLine(e.getMessage()));
        }
    }

    /** The body as a JSON tree, or null when there is none. */
    JsonNode bodyTree() throws IOException {
        byte[] bytes;
        try (InputStream in = Content.Source.asInputStream(request)) {
            bytes = in.readNBytes(MAX_JSON_BODY + 1);
        }
        if (bytes.length > MAX_JSON_BODY) {
            throw new ApiException(HttpStatus.PAYLOAD_TOO_LARGE_413, "the request body is larger than "
                    + (MAX_JSON_BODY >> 20) + " MiB");
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (text.isBlank()) {
            return null;
        }
        try {
            JsonNode node = JSON.readTree(text);
            if (!node.isObject()) {
                throw new ApiException(HttpStatus.BAD_REQUEST_400, "invalid JSON: the body must be a JSON object");
            }
            return node;
        } catch (IOException e) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "invalid JSON: " + firstLine(e.getMessage()));
        }
    }

    /** A field of a JSON body that must be an object of strings (labels, options); empty when absent or null. */
    static Map<String, String> stringMap(JsonNode body, String field) {
        Map<String, String> map = new java.util.TreeMap<>();
        JsonNode value = body == null ? null : body.get(field);
        if (value != null && value.isObject()) {
            value.fields().forEachRemaining(e -> map.put(e.getKey(), e.getValue().asText()));
        } else if (value != null && !value.isNull()) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, field + " must be an object of strings");
        }
        return map;
    }

    void json(int status, Object body) throws IOException {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        Content.Sink.write(response, true, JSON.writeValueAsString(body) + "\n", callback);
    }

    /** A status without a body (204 No Content, 304 Not Modified, ...). */
    void status(int status) {
        response.setStatus(status);
        response.write(true, null, callback);
    }

    /** Streams a body of {@code contentType}; the writer's end ends the response. */
    void stream(int status, String contentType, StreamWriter writer) throws IOException {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        try (OutputStream out = Content.Sink.asOutputStream(response)) {
            writer.write(out);
        }
        callback.succeeded();
    }

    interface StreamWriter {
        void write(OutputStream out) throws IOException;
    }

    static String firstLine(String text) {
        return text == null ? "" : text.lines().findFirst().orElse("");
    }
}
