package io.berth.api;

import static io.berth.api.Routes.NAME;

import io.berth.spi.containers.ContainerService;
import io.berth.spi.containers.PathStat;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;

/**
 * {@code /containers/{id}/archive}: {@code docker cp} in both directions. {@code HEAD} and {@code GET} describe the
 * path in {@code X-Docker-Container-Path-Stat} (base64 JSON); {@code GET} sends it as a tar, {@code PUT} extracts a
 * tar into it (checked whole by the container service before anything is written).
 */
final class ArchiveEndpoints {

    static final String PATH_STAT = "X-Docker-Container-Path-Stat";

    private final Service<ContainerService> service;

    ArchiveEndpoints(Service<ContainerService> service) {
        this.service = service;
    }

    void addTo(Routes routes) {
        String archive = "/containers/(?<id>" + NAME + ")/archive";
        routes.add("HEAD", archive, this::stat)
                .add("GET", archive, this::get)
                .add("PUT", archive, this::put);
    }


    private static String path(Exchange x) {
        String path = x.query("path");
        if (path == null || path.isEmpty()) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "path is required: the path in the container");
        }
        return path;
    }

    private void stat(Exchange x) throws IOException {
        PathStat stat = service.get().stat(x.path("id"), path(x));
        x.response.getHeaders().put(PATH_STAT, encode(stat));
        x.status(HttpStatus.OK_200);
    }

    private void get(Exchange x) throws IOException {
        String id = x.path("id");
        String path = path(x);
        PathStat stat = service.get().stat(id, path); // a missing path is a 404 before the tar starts
        x.response.getHeaders().put(PATH_STAT, encode(stat));
        x.stream(HttpStatus.OK_200, "application/x-tar", out -> service.get().copyFrom(id, path, out));
    }

    private void put(Exchange x) throws IOException {
        String path = path(x);
        try (InputStream tar = Content.Source.asInputStream(x.request)) {
            service.get().copyTo(x.path("id"), path, tar, x.flag("noOverwriteDirNonDir"));
        }
        x.status(HttpStatus.OK_200);
    }

    private static String encode(PathStat stat) throws IOException {
        return Base64.getEncoder().encodeToString(Exchange.JSON.writeValueAsString(stat)
                .getBytes(StandardCharsets.UTF_8));
    }
}
