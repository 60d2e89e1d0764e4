package io.berth.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.spi.images.RegistryClient;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Docker's JSON progress messages, one per line and flushed at once, so that the docker CLI draws its progress
 * bars: {@code status}, {@code id}, {@code progressDetail} and {@code progress}; {@code stream} for plain text;
 * {@code errorDetail} and {@code error} when the work fails after the answer began.
 */
final class ProgressMessages {

    private static final int BAR_WIDTH = 50;

    private final OutputStream out;

    ProgressMessages(OutputStream out) {
        this.out = out;
    }

    /** The registry client's progress as a message; a write that fails (the client went) stops the work. */
    void progress(RegistryClient.Progress progress) {
        ObjectNode message = Exchange.JSON.createObjectNode();
        message.put("status", progress.status());
        ObjectNode detail = message.putObject("progressDetail");
        if (progress.current() >= 0 && progress.total() > 0) {
            detail.put("current", progress.current()).put("total", progress.total());
            message.put("progress", bar(progress.current(), progress.total()));
        }
        // dockerd's "Digest: ..." and "TAG: digest: ..." have no id; the store names the tag they are for
        if (progress.id() != null && !progress.id().isEmpty() && !progress.status().startsWith("Digest: ")
                && !progress.status().startsWith(progress.id() + ": ")) {
            message.put("id", progress.id());
        }
        try {
            write(message);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void status(String status) throws IOException {
        write(Exchange.JSON.createObjectNode().put("status", status));
    }

    void stream(String text) throws IOException {
        write(Exchange.JSON.createObjectNode().put("stream", text));
    }

    void aux(ObjectNode aux) throws IOException {
        ObjectNode message = Exchange.JSON.createObjectNode();
        message.putObject("progressDetail");
        message.set("aux", aux);
        write(message);
    }

    void error(String text) throws IOException {
        ObjectNode message = Exchange.JSON.createObjectNode();
        message.putObject("errorDetail").put("message", text);
        message.put("error", text);
        write(message);
    }

    private void write(ObjectNode message) throws IOException {
        out.write((Exchange.JSON.writeValueAsString(message) + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** The bar the CLI prints on a terminal that is not one: {@code [=====>     ]  1.2MB/3.4MB}. */
    static String bar(long current, long total) {
        int filled = (int) Math.min(BAR_WIDTH, BAR_WIDTH * current / total);
        StringBuilder bar = new StringBuilder("[");
        for (int i = 0; i < BAR_WIDTH; i++) {
            bar.append(i < filled ? '=' : i == filled ? '>' : ' ');
        }
        return bar.append("] ").append(size(current)).append('/').append(size(total)).toString();
    }

    private static String size(long bytes) {
        String[] units = {"B", "kB", "MB", "GB", "TB"};
        double value = bytes;
        int unit = 0;
        while (value >= 1000 && unit < units.length - 1) {
            value /= 1000;
            unit++;
        }
        return unit == 0 ? bytes + "B" : String.format(java.util.Locale.ROOT, "%.3g%s", value, units[unit]);
    }
}
