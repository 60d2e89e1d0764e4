package io.berth.registry.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

/** Routes the OCI distribution spec v1.1 endpoints onto {@link RegistryStorage}. */
final class RegistryHandler extends Handler.Abstract {

    private static final Pattern UPLOADS = Pattern.compile("^/v2/(.+)/blobs/uploads/([^/]*)$");
    private static final Pattern BLOB = Pattern.compile("^/v2/(.+)/blobs/([^/]+)$");
    private static final Pattern MANIFEST = Pattern.compile("^/v2/(.+)/manifests/([^/]+)$");
    private static final Pattern TAGS = Pattern.compile("^/v2/(.+)/tags/list$");
    private static final Pattern REFERRERS = Pattern.compile("^/v2/(.+)/referrers/([^/]+)$");
    private static final Pattern RANGE = Pattern.compile("^(?:bytes[= ])?(\\d+)-(\\d+)$");
    private static final Pattern BYTES_RANGE = Pattern.compile("^bytes=(\\d+)-(\\d*)$");

    private final RegistryStorage storage;
    /** Null when anyone may use the registry. */
    private final Htpasswd users;
    private final String challenge;
    private final ObjectMapper json = new ObjectMapper();

    RegistryHandler(RegistryStorage storage, Htpasswd users, String realm) {
        this.storage = storage;
        this.users = users;
        this.challenge = "Basic realm=\"" + realm.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        response.getHeaders().put("Docker-Distribution-API-Version", "registry/2.0");
        String path = Request.getPathInContext(request);
        String method = request.getMethod();
        try {
            // every endpoint, /v2/ included: clients learn from its 401 that they must log in
            if (users != null && !users.allows(request.getHeaders().get(HttpHeader.AUTHORIZATION))) {
                response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, challenge);
                throw new RegistryException(ErrorCode.UNAUTHORIZED, "authentication required", null);
            }
            route(method, path, request, response, callback);
        } catch (RegistryStorage.RangeMismatch e) {
            response.getHeaders().put(HttpHeader.RANGE, range(e.size));
            error(method, response, callback, e);
        } catch (RegistryException e) {
            error(method, response, callback, e);
        }
        return true;
    }

    private void route(String method, String path, Request request, Response response, Callback callback)
            throws Exception {
        Matcher m;
        if (path.equals("/v2/") || path.equals("/v2")) {
            only(method, "GET", "HEAD");
            sendJson(method, response, callback, 200, json.createObjectNode());
        } else if (path.equals("/v2/_catalog")) {
            only(method, "GET");
            catalog(request, response, callback);
        } else if (path.equals("/v1/search")) {
            only(method, "GET");
            search(request, response, callback);
        } else if ((m = UPLOADS.matcher(path)).matches()) {
            String name = Names.repository(m.group(1));
            if (m.group(2).isEmpty()) {
                only(method, "POST");
                startUpload(name, request, response, callback);
            } else {
                upload(method, name, Names.upload(m.group(2)), request, response, callback);
            }
        } else if ((m = BLOB.matcher(path)).matches()) {
            blob(method, Names.repository(m.group(1)), Names.digest(m.group(2)), request, response, callback);
        } else if ((m = MANIFEST.matcher(path)).matches()) {
            manifest(method, Names.repository(m.group(1)), m.group(2), request, response, callback);
        } else if ((m = TAGS.matcher(path)).matches()) {
            only(method, "GET");
            tags(Names.repository(m.group(1)), request, response, callback);
        } else if ((m = REFERRERS.matcher(path)).matches()) {
            only(method, "GET");
            String artifactType = query(request).getValue("artifactType");
            ObjectNode index = storage.referrers(Names.repository(m.group(1)), Names.digest(m.group(2)), artifactType);
            if (artifactType != null) {
                response.getHeaders().put("OCI-Filters-Applied", "artifactType");
            }
            sendBytes(method, response, callback, 200, RegistryStorage.OCI_INDEX, json.writeValueAsBytes(index));
        } else {
            throw new RegistryException(ErrorCode.UNSUPPORTED, 404, "no such endpoint", path);
        }
    }

    // ---------------------------------------------------------------- blobs

    private void blob(String method, String name, String digest, Request request, Response response, Callback callback)
            throws Exception {
        if ("DELETE".equals(method)) {
            if (!storage.deleteBlob(name, digest)) {
                throw new RegistryException(ErrorCode.BLOB_UNKNOWN, "blob unknown to repository", digest);
            }
            empty(response, callback, 202);
            return;
        }
        only(method, "GET", "HEAD");
        Optional<Long> size = storage.blobSize(name, digest);
        if (size.isEmpty()) {
            throw new RegistryException(ErrorCode.BLOB_UNKNOWN, "blob unknown to repository", digest);
        }
        long length = size.get();
        long from = 0;
        long to = length - 1;
        int status = 200;
        String rangeHeader = request.getHeaders().get(HttpHeader.RANGE);
        if (rangeHeader != null && "GET".equals(method)) {
            Matcher r = BYTES_RANGE.matcher(rangeHeader.trim());
            if (r.matches()) {
                from = Long.parseLong(r.group(1));
                to = r.group(2).isEmpty() ? length - 1 : Math.min(Long.parseLong(r.group(2)), length - 1);
                if (from >= length || to < from) {
                    response.getHeaders().put(HttpHeader.CONTENT_RANGE, "bytes */" + length);
                    empty(response, callback, 416);
                    return;
                }
                status = 206;
                response.getHeaders().put(HttpHeader.CONTENT_RANGE, "bytes " + from + "-" + to + "/" + length);
            }
        }
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.ACCEPT_RANGES, "bytes");
        response.getHeaders().put("Docker-Content-Digest", digest);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, to - from + 1);
        if ("HEAD".equals(method)) {
            response.write(true, null, callback);
            return;
        }
        Path blob = storage.blobPath(digest);
        InputStream in;
        try {
            in = Files.newInputStream(blob);
        } catch (NoSuchFileException e) { // collected meanwhile
            throw new RegistryException(ErrorCode.BLOB_UNKNOWN, "blob unknown to repository", digest);
        }
        try (in; OutputStream out = Content.Sink.asOutputStream(response)) {
            in.skipNBytes(from);
            byte[] buffer = new byte[64 * 1024];
            long remaining = to - from + 1;
            while (remaining > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, remaining));
                if (n < 0) {
                    break;
                }
                out.write(buffer, 0, n);
                remaining -= n;
            }
        }
        callback.succeeded();
    }

    // ---------------------------------------------------------------- uploads

    private void startUpload(String name, Request request, Response response, Callback callback) throws Exception {
        Fields query = query(request);
        String mount = query.getValue("mount");
        String from = query.getValue("from");
        if (mount != null && from != null) {
            Names.digest(mount);
            if (storage.mount(Names.repository(from), name, mount)) {
                blobCreated(name, mount, response, callback);
                return;
            }
        }
        String digest = query.getValue("digest");
        if (digest != null) {
            Names.digest(digest);
        }
        String id = storage.startUpload(name);
        if (digest != null) {
            // monolithic: the client never learns the upload's id, so a failed one is dropped at once
            try (InputStream body = Content.Source.asInputStream(request)) {
                storage.append(name, id, body, null, contentLength(request));
                storage.completeUpload(name, id, digest);
            } catch (Exception e) {
                storage.cancelUpload(name, id);
                throw e;
            }
            blobCreated(name, digest, response, callback);
            return;
        }
        uploadAccepted(name, id, 0, 202, response, callback);
    }

    private void upload(String method, String name, String id, Request request, Response response, Callback callback)
            throws Exception {
        switch (method) {
            case "GET" -> uploadAccepted(name, id, storage.uploadSize(name, id), 204, response, callback);
            case "DELETE" -> {
                storage.cancelUpload(name, id);
                empty(response, callback, 204);
            }
            case "PATCH" -> {
                Long start = null;
                Long length = contentLength(request);
                String contentRange = request.getHeaders().get(HttpHeader.CONTENT_RANGE);
                if (contentRange != null) {
                    Matcher r = RANGE.matcher(contentRange.trim());
                    if (!r.matches()) {
                        throw new RegistryStorage.RangeMismatch(storage.uploadSize(name, id));
                    }
                    start = Long.parseLong(r.group(1));
                    long end = Long.parseLong(r.group(2));
                    if (end < start) {
                        throw new RegistryStorage.RangeMismatch(storage.uploadSize(name, id));
                    }
                    if (length != null && length != end - start + 1) {
                        throw new RegistryException(ErrorCode.SIZE_INVALID,
                                "Content-Length does not match Content-Range", contentRange);
                    }
                    length = end - start + 1;
                }
                long size;
                try (InputStream body = Content.Source.asInputStream(request)) {
                    size = storage.append(name, id, body, start, length);
                }
                uploadAccepted(name, id, size, 202, response, callback);
            }
            case "PUT" -> {
                String digest = query(request).getValue("digest");
                if (digest == null) {
                    throw new RegistryException(ErrorCode.DIGEST_INVALID, "the digest parameter is required", null);
                }
                Names.digest(digest);
                Long length = contentLength(request);
                if (length == null || length > 0) {
                    Long start = null;
                    String contentRange = request.getHeaders().get(HttpHeader.CONTENT_RANGE);
                    if (contentRange != null) {
                        Matcher r = RANGE.matcher(contentRange.trim());
                        if (r.matches()) {
                            start = Long.parseLong(r.group(1));
                        }
                    }
                    try (InputStream body = Content.Source.asInputStream(request)) {
                        storage.append(name, id, body, start, length);
                    }
                }
                storage.completeUpload(name, id, digest);
                blobCreated(name, digest, response, callback);
            }
            default -> throw unsupported(method);
        }
    }

    private void uploadAccepted(String name, String id, long size, int status, Response response, Callback callback) {
        response.getHeaders().put(HttpHeader.LOCATION, "/v2/" + name + "/blobs/uploads/" + id);
        response.getHeaders().put(HttpHeader.RANGE, range(size));
        response.getHeaders().put("Docker-Upload-UUID", id);
        empty(response, callback, status);
    }

    private void blobCreated(String name, String digest, Response response, Callback callback) {
        response.getHeaders().put(HttpHeader.LOCATION, "/v2/" + name + "/blobs/" + digest);
        response.getHeaders().put("Docker-Content-Digest", digest);
        empty(response, callback, 201);
    }

    /** The upload's Range header; distribution answers 0-0 for an empty upload, and clients expect it. */
    private static String range(long size) {
        return "0-" + Math.max(0, size - 1);
    }

    private static Long contentLength(Request request) {
        long length = request.getLength();
        return length >= 0 ? length : null;
    }

    // ---------------------------------------------------------------- manifests

    private void manifest(String method, String name, String reference, Request request, Response response,
            Callback callback) throws Exception {
        if (Names.isDigest(reference)) {
            Names.digest(reference);
        } else {
            Names.tag(reference);
        }
        switch (method) {
            case "GET", "HEAD" -> {
                Optional<RegistryStorage.Manifest> stored = storage.manifest(name, reference);
                if (stored.isEmpty()) {
                    throw new RegistryException(ErrorCode.MANIFEST_UNKNOWN, "manifest unknown", reference);
                }
                RegistryStorage.Manifest manifest = negotiate(name, reference, stored.get(),
                        request.getHeaders().getValuesList(HttpHeader.ACCEPT));
                String etag = "\"" + manifest.digest() + "\"";
                response.getHeaders().put("Docker-Content-Digest", manifest.digest());
                response.getHeaders().put(HttpHeader.ETAG, etag);
                for (String match : request.getHeaders().getValuesList(HttpHeader.IF_NONE_MATCH)) {
                    if (match.trim().equals(etag) || match.trim().equals(manifest.digest())) {
                        empty(response, callback, 304);
                        return;
                    }
                }
                sendBytes(method, response, callback, 200, manifest.mediaType(), manifest.content());
            }
            case "PUT" -> {
                byte[] content;
                try (InputStream body = Content.Source.asInputStream(request)) {
                    content = body.readNBytes(RegistryStorage.MAX_MANIFEST_BYTES + 1);
                    if (content.length > RegistryStorage.MAX_MANIFEST_BYTES) {
                        // Read the rest (up to three times the limit) before answering: a client still sending its
                        // body would otherwise see the connection reset instead of the error.
                        byte[] sink = new byte[1 << 16];
                        long left = 3L * RegistryStorage.MAX_MANIFEST_BYTES;
                        for (int n; left > 0 && (n = body.read(sink, 0, (int) Math.min(sink.length, left))) > 0; ) {
                            left -= n;
                        }
                        throw new RegistryException(ErrorCode.SIZE_INVALID, "manifest too large", null);
                    }
                }
                String contentType = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
                if (contentType != null) {
                    int semicolon = contentType.indexOf(';');
                    contentType = (semicolon >= 0 ? contentType.substring(0, semicolon) : contentType).trim();
                }
                String digest = storage.putManifest(name, reference, contentType, content);
                String subject = json.readTree(content).path("subject").path("digest").asText(null);
                if (subject != null) {
                    response.getHeaders().put("OCI-Subject", subject);
                }
                response.getHeaders().put(HttpHeader.LOCATION, "/v2/" + name + "/manifests/" + digest);
                response.getHeaders().put("Docker-Content-Digest", digest);
                empty(response, callback, 201);
            }
            case "DELETE" -> {
                if (!storage.deleteManifest(name, reference)) {
                    throw new RegistryException(ErrorCode.MANIFEST_UNKNOWN, "manifest unknown", reference);
                }
                empty(response, callback, 202);
            }
            default -> throw unsupported(method);
        }
    }

    /**
     * The manifest to answer with, given the media types the client accepts
     * (docker-registry's rules, minus its schema 1 rewriting): what is stored
     * when the client accepts its type or names no type ({@code Accept}
     * absent, or {@code *}{@code /*}; docker-registry refuses OCI types then,
     * but a plain {@code curl} should see what is there); for an index fetched
     * by tag that the client cannot read, its linux/amd64 manifest if the
     * client can read that; otherwise MANIFEST_UNKNOWN, as docker-registry
     * answers, since the client could not use what is there.
     */
    private RegistryStorage.Manifest negotiate(String name, String reference, RegistryStorage.Manifest stored,
            List<String> acceptHeaders) throws Exception {
        Set<String> accepted = new HashSet<>();
        for (String header : acceptHeaders) {
            for (String range : header.split(",")) {
                int semicolon = range.indexOf(';');
                String type = (semicolon >= 0 ? range.substring(0, semicolon) : range).trim().toLowerCase(Locale.ROOT);
                if (type.equals("*/*") || type.equals("application/*")) {
                    return stored;
                }
                if (!type.isEmpty()) {
                    accepted.add(type);
                }
            }
        }
        if (accepted.isEmpty() || accepted.contains(stored.mediaType())) {
            return stored;
        }
        if (!Names.isDigest(reference) && RegistryStorage.INDEX_TYPES.contains(stored.mediaType())) {
            for (JsonNode child : json.readTree(stored.content()).path("manifests")) {
                JsonNode platform = child.path("platform");
                if ("linux".equals(platform.path("os").asText()) && "amd64".equals(platform.path("architecture").asText())
                        && accepted.contains(child.path("mediaType").asText())) {
                    Optional<RegistryStorage.Manifest> chosen = storage.manifest(name, child.path("digest").asText());
                    if (chosen.isPresent()) {
                        return chosen.get();
                    }
                }
            }
        }
        throw new RegistryException(ErrorCode.MANIFEST_UNKNOWN, "the manifest is " + stored.mediaType()
                + ", which the Accept header does not allow", String.join(", ", acceptHeaders));
    }

    // ---------------------------------------------------------------- listings

    private void tags(String name, Request request, Response response, Callback callback) throws Exception {
        if (!storage.repositoryExists(name)) {
            throw new RegistryException(ErrorCode.NAME_UNKNOWN, "repository name not known to registry", name);
        }
        ObjectNode body = json.createObjectNode().put("name", name);
        paginate(storage.tags(name), "/v2/" + name + "/tags/list", request, response, body.putArray("tags"));
        sendJson("GET", response, callback, 200, body);
    }

    private void catalog(Request request, Response response, Callback callback) throws Exception {
        ObjectNode body = json.createObjectNode();
        paginate(storage.repositories(), "/v2/_catalog", request, response, body.putArray("repositories"));
        sendJson("GET", response, callback, 200, body);
    }

    /**
     * Docker's v1 search, which {@code docker search HOST/TERM} asks: the catalog's repositories whose name contains
     * {@code q} (any case), {@code n} per page (25 unless given, at most 100), page {@code page} (from 1), in the
     * shape Docker Hub's v1 search answers. A registry keeps no descriptions or stars: those are empty.
     */
    private void search(Request request, Response response, Callback callback) throws Exception {
        Fields query = query(request);
        String term = query.getValue("q") == null ? "" : query.getValue("q");
        int pageSize = Math.min(100, positive(query.getValue("n"), 25));
        int page = positive(query.getValue("page"), 1);
        String wanted = term.toLowerCase(java.util.Locale.ROOT);
        List<String> matching = storage.repositories().stream().filter(name -> name.contains(wanted)).toList();
        ObjectNode body = json.createObjectNode();
        body.put("num_pages", Math.max(1, (matching.size() + pageSize - 1) / pageSize))
                .put("num_results", matching.size()).put("page_size", pageSize).put("page", page).put("query", term);
        ArrayNode results = body.putArray("results");
        matching.stream().skip((long) (page - 1) * pageSize).limit(pageSize).forEach(name -> results.addObject()
                .put("name", name).put("description", "").put("star_count", 0)
                .put("is_official", false).put("is_automated", false));
        sendJson("GET", response, callback, 200, body);
    }

    /** A count from the query: {@code otherwise} when absent; a number below 1 or no number is refused. */
    private static int positive(String text, int otherwise) throws RegistryException {
        if (text == null || text.isEmpty()) {
            return otherwise;
        }
        try {
            int value = Integer.parseInt(text);
            if (value >= 1) {
                return value;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new RegistryException(ErrorCode.PAGINATION_NUMBER_INVALID, "n and page must be whole numbers from 1",
                text);
    }

    /** Fills {@code page} with the names after {@code last}, at most {@code n}, and links the next page. */
    private static void paginate(List<String> all, String path, Request request, Response response, ArrayNode page)
            throws RegistryException {
        Fields query = query(request);
        String last = query.getValue("last");
        String nText = query.getValue("n");
        Integer n = null;
        if (nText != null) {
            try {
                n = Integer.parseInt(nText);
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 0) {
                throw new RegistryException(ErrorCode.PAGINATION_NUMBER_INVALID, "invalid number of results requested", nText);
            }
        }
        int count = 0;
        String lastAdded = null;
        boolean more = false;
        for (String entry : all) {
            if (last != null && entry.compareTo(last) <= 0) {
                continue;
            }
            if (n != null && count >= n) {
                more = true;
                break;
            }
            page.add(entry);
            lastAdded = entry;
            count++;
        }
        if (more && lastAdded != null) {
            response.getHeaders().put(HttpHeader.LINK, "<" + path + "?last="
                    + URLEncoder.encode(lastAdded, StandardCharsets.UTF_8) + "&n=" + n + ">; rel=\"next\"");
        }
    }

    // ---------------------------------------------------------------- responses

    private static Fields query(Request request) {
        return Request.extractQueryParameters(request, StandardCharsets.UTF_8);
    }

    private static void only(String method, String... allowed) throws RegistryException {
        for (String a : allowed) {
            if (a.equals(method)) {
                return;
            }
        }
        throw unsupported(method);
    }

    private static RegistryException unsupported(String method) {
        return new RegistryException(ErrorCode.UNSUPPORTED, "the operation is unsupported", method);
    }

    private static void empty(Response response, Callback callback, int status) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 0L);
        response.write(true, null, callback);
    }

    private void sendJson(String method, Response response, Callback callback, int status, Object body) throws IOException {
        sendBytes(method, response, callback, status, "application/json", json.writeValueAsBytes(body));
    }

    private static void sendBytes(String method, Response response, Callback callback, int status, String contentType,
            byte[] body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, (long) body.length);
        if ("HEAD".equals(method)) {
            response.write(true, null, callback);
        } else {
            response.write(true, java.nio.ByteBuffer.wrap(body), callback);
        }
    }

    private void error(String method, Response response, Callback callback, RegistryException e) throws IOException {
        ObjectNode body = json.createObjectNode();
        ObjectNode error = body.putArray("errors").addObject();
        error.put("code", e.code.name()).put("message", e.getMessage());
        if (e.detail != null) {
            error.put("detail", e.detail);
        }
        sendJson(method, response, callback, e.status, body);
    }
}
