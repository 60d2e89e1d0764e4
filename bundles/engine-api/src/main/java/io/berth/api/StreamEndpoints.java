package io.berth.api;

import static io.berth.api.Routes.NAME;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.spi.containers.Container;
import io.berth.spi.containers.ContainerService;
import io.berth.spi.containers.ExecConfig;
import io.berth.spi.runtime.Attachment;
import io.berth.spi.runtime.ExecProcess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.jetty.http.HttpStatus;

/**
 * The hijacked streams: {@code attach} (also what {@code docker run} does before it starts a container), {@code exec}
 * and their {@code resize}. Output goes raw with a TTY and in Docker's 8-byte frames without; the client's stdin
 * goes to the container until the client half-closes.
 */
final class StreamEndpoints {

    /** An attach to a container that has not started: its next start through this API starts it attached. */
    private record Pending(CompletableFuture<Attachment> attachment, String detachKeys) {
    }

    /** An exec instance: created by one request, started by another, inspected for its exit code afterwards. */
    private static final class Exec {
        final String id;
        final String containerId;
        final ExecConfig config;
        final boolean stdout;
        final boolean stderr;
        volatile ExecProcess process;
        volatile Integer exitCode;
        volatile long endedAt;

        Exec(String id, String containerId, ExecConfig config, boolean stdout, boolean stderr) {
            this.id = id;
            this.containerId = containerId;
            this.config = config;
            this.stdout = stdout;
            this.stderr = stderr;
        }
    }

    private static final long KEEP_ENDED_EXECS_NANOS = 5L * 60 * 1_000_000_000;

    private final Service<ContainerService> service;
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    /** The attachments being streamed, by container id, for resize. */
    private final Map<String, Attachment> attached = new ConcurrentHashMap<>();
    private final Map<String, Exec> execs = new ConcurrentHashMap<>();

    StreamEndpoints(Service<ContainerService> service) {
        this.service = service;
    }

    void addTo(Routes routes) {
        String one = "/containers/(?<id>" + NAME + ")";
        routes.add("POST", one + "/attach", this::attach)
                .add("POST", one + "/resize", this::resize)
                .add("POST", one + "/exec", this::createExec)
                .add("POST", "/exec/(?<id>" + NAME + ")/start", this::startExec)
                .add("GET", "/exec/(?<id>" + NAME + ")/json", this::inspectExec)
                .add("POST", "/exec/(?<id>" + NAME + ")/resize", this::resizeExec);
    }


    /**
     * Starts a container an attach waits for, attached, and hands the attachment to it.
     *
     * @return false when no attach waits (the caller starts it as usual)
     */
    boolean startAwaited(String nameOrId) throws IOException {
        String id = service.get().inspect(nameOrId).id();
        Pending waiting = pending.remove(id);
        if (waiting == null) {
            return false;
        }
        try {
            waiting.attachment().complete(service.get().startAttached(id, waiting.detachKeys()));
        } catch (IOException | RuntimeException e) {
            waiting.attachment().completeExceptionally(e);
            throw e;
        }
        return true;
    }

    private void attach(Exchange x) throws IOException {
        Container c = service.get().inspect(x.path("id"));
        String id = c.id();
        boolean tty = c.config().tty();
        boolean stdin = x.flag("stdin");
        boolean stdout = x.flag("stdout");
        boolean stderr = x.flag("stderr");
        String detachKeys = x.query("detachKeys");
        CompletableFuture<Attachment> ready;
        if (c.state().running()) {
            ready = CompletableFuture.completedFuture(service.get().attach(id, detachKeys)); // errors as HTTP errors
        } else {
            ready = new CompletableFuture<>();
            if (pending.putIfAbsent(id, new Pending(ready, detachKeys)) != null) {
                throw new ApiException(HttpStatus.CONFLICT_409, "another client is attached to " + c.shortName()
                        + " and waits for it to start");
            }
        }
        HijackedConnection.upgrade(x, tty ? ContainerEndpoints.RAW : ContainerEndpoints.MULTIPLEXED,
                "attach-" + id.substring(0, 12), (in, out) -> {
                    Attachment attachment;
                    try {
                        attachment = ready.get();
                    } finally {
                        pending.remove(id, new Pending(ready, detachKeys));
                    }
                    attached.put(id, attachment);
                    try {
                        pump(attachment, in, out, tty, stdin, stdout, stderr);
                    } finally {
                        attached.remove(id, attachment);
                        attachment.close();
                    }
                });
    }

    /** Copies the client's stdin to the attachment on a thread of its own, and the attachment's output back. */
    private static void pump(Attachment attachment, InputStream in, OutputStream out, boolean tty, boolean stdin,
                             boolean stdout, boolean stderr) throws IOException {
        if (stdin) {
            Thread input = new Thread(() -> {
                try (OutputStream toContainer = attachment.stdin()) {
                    in.transferTo(toContainer);
                } catch (IOException e) {
                    // the container or the client went; the output side ends the session
                }
            }, "berth-api-stdin");
            input.setDaemon(true);
            input.start();
        }
        for (Attachment.Output output = attachment.read(); output != null; output = attachment.read()) {
            boolean wanted = output.stream() == Attachment.STDERR ? stderr : stdout;
            if (!wanted) {
                continue;
            }
            if (tty) {
                out.write(output.data());
            } else {
                ContainerEndpoints.writeFrame(out, output.stream(), output.data());
            }
        }
    }

    private void resize(Exchange x) throws IOException {
        String id = service.get().inspect(x.path("id")).id();
        Attachment attachment = attached.get(id);
        if (attachment == null) {
            throw new ApiException(HttpStatus.CONFLICT_409, "no terminal of " + x.path("id")
                    + " is attached here to resize");
        }
        attachment.resize(x.integer("h", 24), x.integer("w", 80));
        x.status(HttpStatus.OK_200);
    }

    private void createExec(Exchange x) throws IOException {
        Container c = service.get().inspect(x.path("id"));
        if (!c.state().running() || c.state().paused()) {
            throw new ApiException(HttpStatus.CONFLICT_409, "Container " + c.id() + " is "
                    + (c.state().paused() ? "paused, unpause the container before exec" : "not running"));
        }
        JsonNode body = x.bodyTree();
        if (body == null || !body.path("Cmd").isArray() || body.path("Cmd").isEmpty()) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "No exec command specified");
        }
        ExecConfig config;
        try {
            config = Exchange.JSON.treeToValue(body, ExecConfig.class);
        } catch (IOException e) {
            throw new ApiException(HttpStatus.BAD_REQUEST_400, "invalid JSON: " + Exchange.firstLine(e.getMessage()));
        }
        forgetEndedExecs();
        byte[] random = new byte[32];
        new java.security.SecureRandom().nextBytes(random);
        String id = HexFormat.of().formatHex(random);
        execs.put(id, new Exec(id, c.id(), config, body.path("AttachStdout").asBoolean(false),
                body.path("AttachStderr").asBoolean(false)));
        x.json(HttpStatus.CREATED_201, Map.of("Id", id));
    }

    /** Exec instances stay inspectable for a while after they end (the CLI asks for the exit code), not forever. */
    private void forgetEndedExecs() {
        long now = System.nanoTime();
        execs.values().removeIf(e -> e.exitCode != null && now - e.endedAt > KEEP_ENDED_EXECS_NANOS);
    }

    private Exec exec(Exchange x) {
        Exec exec = execs.get(x.path("id"));
        if (exec == null) {
            throw new ApiException(HttpStatus.NOT_FOUND_404, "No such exec instance: " + x.path("id"));
        }
        return exec;
    }

    private void startExec(Exchange x) throws IOException {
        Exec exec = exec(x);
        JsonNode body = x.bodyTree();
        boolean detach = body != null && body.path("Detach").asBoolean(false);
        synchronized (exec) {
            if (exec.process != null) {
                throw new ApiException(HttpStatus.CONFLICT_409, "Error: Exec command " + exec.id
                        + " has already run");
            }
            ExecConfig config = exec.config;
            JsonNode size = body == null ? null : body.get("ConsoleSize"); // the start's wins over the create's
            if (size != null && size.isArray() && size.size() == 2) {
                config = config.withConsoleSize(List.of(size.get(0).asInt(), size.get(1).asInt()));
            }
            exec.process = service.get().exec(exec.containerId, config);
        }
        ExecProcess process = exec.process;
        if (detach) {
            Thread drain = new Thread(() -> {
                try (process) {
                    while (process.read() != null) {
                        // nobody listens: the output is dropped, as dockerd does for exec -d
                    }
                    exec.exitCode = process.waitFor();
                } catch (IOException | InterruptedException e) {
                    exec.exitCode = -1;
                }
                exec.endedAt = System.nanoTime();
            }, "berth-api-exec-" + exec.id.substring(0, 12));
            drain.setDaemon(true);
            drain.start();
            x.status(HttpStatus.OK_200);
            return;
        }
        boolean tty = exec.config.tty();
        HijackedConnection.upgrade(x, tty ? ContainerEndpoints.RAW : ContainerEndpoints.MULTIPLEXED,
                "exec-" + exec.id.substring(0, 12), (in, out) -> {
                    try (process) {
                        pump(process, in, out, tty, exec.config.attachStdin(), exec.stdout, exec.stderr);
                        exec.exitCode = process.waitFor(); // known before the client sees the end
                        exec.endedAt = System.nanoTime();
                    }
                });
    }

    private void inspectExec(Exchange x) throws IOException {
        Exec exec = exec(x);
        ExecProcess process = exec.process;
        ObjectNode answer = Exchange.JSON.createObjectNode();
        answer.put("ID", exec.id).put("ContainerID", exec.containerId)
                .put("Running", process != null && exec.exitCode == null)
                .put("OpenStdin", exec.config.attachStdin()).put("OpenStdout", exec.stdout)
                .put("OpenStderr", exec.stderr).put("CanRemove", false)
                .put("Pid", process == null ? 0 : process.pid());
        if (exec.exitCode == null) {
            answer.putNull("ExitCode");
        } else {
            answer.put("ExitCode", exec.exitCode);
        }
        ObjectNode processConfig = answer.putObject("ProcessConfig");
        processConfig.put("tty", exec.config.tty()).put("entrypoint", exec.config.cmd().get(0))
                .put("privileged", exec.config.privileged())
                .put("user", exec.config.user() == null ? "" : exec.config.user());
        processConfig.set("arguments", Exchange.JSON.valueToTree(
                exec.config.cmd().subList(1, exec.config.cmd().size())));
        x.json(HttpStatus.OK_200, answer);
    }

    private void resizeExec(Exchange x) throws IOException {
        Exec exec = exec(x);
        ExecProcess process = exec.process;
        if (process == null) {
            throw new ApiException(HttpStatus.CONFLICT_409, "exec " + exec.id + " has not started");
        }
        process.resize(x.integer("h", 24), x.integer("w", 80));
        x.status(HttpStatus.OK_200);
    }
}
