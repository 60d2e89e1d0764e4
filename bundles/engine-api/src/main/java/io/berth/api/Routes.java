package io.berth.api;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Engine API endpoints by method and path pattern, and the one place where what the services throw becomes
 * Docker's status codes: no such thing 404, a conflict with the state 409, bad input 400, anything else 500.
 */
final class Routes {

    /** Answers one request. */
    interface Endpoint {
        void handle(Exchange exchange) throws Exception;
    }

    private record Route(String method, Pattern path, Endpoint endpoint) {
    }

    /** A path segment: a name, an id or an image reference without slashes. */
    static final String NAME = "[^/]+";
    /** An image reference, which may contain slashes ({@code localhost:5000/team/app:1}). */
    static final String REFERENCE = ".+?";

    private static final System.Logger LOG = System.getLogger("berth.api");

    private final List<Route> routes = new ArrayList<>();

    /** Adds an endpoint; {@code pattern} is a regular expression for the whole (unversioned) path. */
    Routes add(String method, String pattern, Endpoint endpoint) {
        routes.add(new Route(method, Pattern.compile(pattern), endpoint));
        return this;
    }

    /** Answers the request if an endpoint has its method and path; false when none has. */
    boolean dispatch(String method, String path, Request request, Response response, Callback callback) {
        for (Route route : routes) {
            Matcher matcher = route.path().matcher(path);
            if (route.method().equals(method) && matcher.matches()) {
                Exchange exchange = new Exchange(request, response, callback, matcher);
                try {
                    route.endpoint().handle(exchange);
                } catch (Exception | Error e) {
                    answerFailure(exchange, e);
                }
                return true;
            }
        }
        return false;
    }

    private static void answerFailure(Exchange exchange, Throwable e) {
        int status = statusOf(e);
        if (e instanceof org.eclipse.jetty.io.EofException) {
            // the client went away (docker run detached, a script's timeout): nothing to answer, nothing wrong here
            exchange.callback.failed(e);
            return;
        }
        if (status == HttpStatus.INTERNAL_SERVER_ERROR_500) {
            LOG.log(System.Logger.Level.WARNING, exchange.request.getMethod() + " "
                    + exchange.request.getHttpURI().getPathQuery() + " failed", e);
        }
        if (exchange.response.isCommitted()) {
            exchange.callback.failed(e); // a stream broke off: the client sees the connection end
            return;
        }
        String message = e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName()
                : e.getMessage();
        error(exchange, status, message);
    }

    static int statusOf(Throwable e) {
        if (e instanceof ApiException api) {
            return api.status;
        }
        if (e instanceof NoSuchElementException) {
            return HttpStatus.NOT_FOUND_404;
        }
        if (e instanceof IllegalArgumentException) {
            return HttpStatus.BAD_REQUEST_400;
        }
        if (e instanceof IllegalStateException) {
            return HttpStatus.CONFLICT_409;
        }
        if (e instanceof UnsupportedOperationException) {
            return HttpStatus.NOT_IMPLEMENTED_501;
        }
        return HttpStatus.INTERNAL_SERVER_ERROR_500;
    }

    /** Docker's error shape: {@code {"message": ...}} with Content-Type exactly application/json. */
    static void error(Exchange exchange, int status, String message) {
        try {
            exchange.json(status, java.util.Map.of("message", message));
        } catch (IOException e) {
            exchange.callback.failed(e);
        }
    }
}
