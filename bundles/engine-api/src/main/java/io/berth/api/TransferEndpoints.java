package io.berth.api;

import static io.berth.api.Routes.REFERENCE;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.spi.images.Image;
import io.berth.spi.images.ImageStore;
import io.berth.spi.images.Reference;
import io.berth.spi.images.RegistryClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;

/**
 * Images in and out of the store: {@code docker pull} and {@code import} ({@code POST /images/create}),
 * {@code push}, {@code load} and {@code save}. Pull and push answer with Docker's progress messages; a failure
 * after the answer began is an {@code error} message, as dockerd sends it.
 */
final class TransferEndpoints {

    private final Service<ImageStore> service;

    TransferEndpoints(Service<ImageStore> service) {
        this.service = service;
    }

    void addTo(Routes routes) {
        routes.add("POST", "/images/create", this::create)
                .add("POST", "/images/load", this::load)
                .add("GET", "/images/get", this::save)
                .add("GET", "/images/(?<name>" + REFERENCE + ")/get", x -> save(x, List.of(x.path("name"))))
                .add("POST", "/images/(?<name>" + REFERENCE + ")/push", this::push);
    }


    /** {@code fromImage} pulls, {@code fromSrc=-} imports the body. */
    private void create(Exchange x) throws IOException {
        String fromImage = x.query("fromImage");
        String fromSrc = x.query("fromSrc");
        if (fromImage != null && !fromImage.isEmpty()) {
            pull(x, fromImage);
        } else if ("-".equals(fromSrc)) {
            importBody(x);
        } else if (fromSrc != null && !fromSrc.isEmpty()) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "importing from a URL is not supported here: send the"
                    + " tar as the body (fromSrc=-)");
        } else {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "fromImage or fromSrc is required");
        }
    }

    private void pull(Exchange x, String fromImage) throws IOException {
        String tag = x.query("tag");
        String reference = fromImage;
        if (tag != null && !tag.isEmpty()) {
            reference = fromImage + (tag.startsWith("sha256:") ? "@" : ":") + tag;
        }
        Reference parsed = Reference.parse(reference); // a bad reference is a 400 before the stream
        String platform = x.query("platform");
        RegistryClient.Credentials credentials = credentials(x);
        String wanted = reference;
        x.stream(HttpStatus.OK_200, "application/json", out -> {
            ProgressMessages messages = new ProgressMessages(out);
            messages.progress(new RegistryClient.Progress(parsed.tag() == null ? parsed.digest() : parsed.tag(),
                    "Pulling from " + parsed.path(), -1, -1));
            try {
                // the store reports each layer, "Digest:" and "Status:" as dockerd does
                service.get().pull(wanted, platform == null || platform.isEmpty() ? null : platform, credentials,
                        messages::progress);
            } catch (UncheckedIOException gone) {
                throw gone.getCause();
            } catch (IOException | RuntimeException e) {
                messages.error(e.getMessage() == null ? e.toString() : e.getMessage());
            }
        });
    }

    private void importBody(Exchange x) throws IOException {
        String repo = x.query("repo");
        String tag = x.query("tag");
        String reference = repo == null || repo.isEmpty() ? null
                : tag == null || tag.isEmpty() ? repo : repo + ":" + tag;
        List<String> changes = x.queryValues("changes");
        Image image;
        try (InputStream tar = Content.Source.asInputStream(x.request)) {
            image = service.get().importImage(tar, reference, x.query("message"), changes);
        }
        x.stream(HttpStatus.OK_200, "application/json", out -> new ProgressMessages(out).status(image.id()));
    }

    private void push(Exchange x) throws IOException {
        String tag = x.query("tag");
        String name = x.path("name") + (tag == null || tag.isEmpty() ? "" : ":" + tag);
        if (service.get().find(name) == null) {
            throw new ApiException(HttpStatus.NOT_FOUND_404, "No such image: " + name);
        }
        RegistryClient.Credentials credentials = credentials(x);
        x.stream(HttpStatus.OK_200, "application/json", out -> {
            ProgressMessages messages = new ProgressMessages(out);
            Reference parsed = Reference.parse(name);
            messages.status("The push refers to repository [" + parsed.name() + "]");
            try {
                String digest = service.get().push(name, credentials, messages::progress); // ends with "TAG: digest: ..."
                String shownTag = parsed.tag() == null ? "latest" : parsed.tag();
                ObjectNode aux = Exchange.JSON.createObjectNode().put("Tag", shownTag).put("Digest", digest);
                messages.aux(aux);
            } catch (UncheckedIOException gone) {
                throw gone.getCause();
            } catch (IOException | RuntimeException e) {
                messages.error(e.getMessage() == null ? e.toString() : e.getMessage());
            }
        });
    }

    private void load(Exchange x) throws IOException {
        List<Image> loaded;
        try (InputStream archive = Content.Source.asInputStream(x.request)) {
            loaded = service.get().load(archive);
        }
        x.stream(HttpStatus.OK_200, "application/json", out -> {
            ProgressMessages messages = new ProgressMessages(out);
            for (Image image : loaded) {
                if (image.repoTags().isEmpty()) {
                    messages.stream("Loaded image ID: " + image.id() + "\n");
                }
                for (String tag : image.repoTags()) {
                    messages.stream("Loaded image: " + tag + "\n");
                }
            }
        });
    }

    private void save(Exchange x) throws IOException {
        save(x, x.queryValues("names"));
    }

    private void save(Exchange x, List<String> names) throws IOException {
        if (names.isEmpty()) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "names is required: the images to save");
        }
        for (String name : names) {
            if (service.get().find(name) == null) {
                throw new ApiException(HttpStatus.NOT_FOUND_404, "No such image: " + name);
            }
        }
        x.stream(HttpStatus.OK_200, "application/x-tar", out -> service.get().save(names, out));
    }

    /** {@code X-Registry-Auth}: base64url JSON with username and password, or an identity token; none is anonymous. */
    static RegistryClient.Credentials credentials(Exchange x) {
        String header = x.request.getHeaders().get("X-Registry-Auth");
        if (header == null || header.isBlank()) {
            return RegistryClient.Credentials.NONE;
        }
        try {
            String json = new String(Base64.getUrlDecoder().decode(header.trim().replace('+', '-').replace('/', '_')),
                    StandardCharsets.UTF_8);
            JsonNode auth = Exchange.JSON.readTree(json);
            if (auth == null || !auth.isObject()) {
                return RegistryClient.Credentials.NONE;
            }
            String username = text(auth, "username");
            String password = text(auth, "password");
            String token = text(auth, "identitytoken");
            if (username == null && password == null && token == null) {
                return RegistryClient.Credentials.NONE;
            }
            return new RegistryClient.Credentials(username, password, token);
        } catch (IllegalArgumentException | IOException e) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "invalid X-Registry-Auth header: it must be base64url"
                    + " JSON with username and password or identitytoken");
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() || value.asText().isEmpty() ? null : value.asText();
    }
}
