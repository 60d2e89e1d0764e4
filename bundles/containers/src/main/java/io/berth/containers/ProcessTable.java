package io.berth.containers;

import io.berth.spi.containers.Top;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code docker top}: runs the host's {@code ps} with the given options and keeps the rows of the container's
 * processes, found by the {@code PID} column, as Docker does.
 */
final class ProcessTable {

    private ProcessTable() {
    }

    static Top top(List<Long> pids, String psArgs) throws IOException {
        List<String> command = new ArrayList<>();
        command.add("ps");
        command.addAll(Arrays.asList((psArgs == null || psArgs.isBlank() ? "-ef" : psArgs).trim().split("\\s+")));
        Process ps = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output;
        try {
            ps.getOutputStream().close();
            output = new String(ps.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (ps.waitFor() != 0) {
                throw new IOException("ps " + String.join(" ", command.subList(1, command.size())) + " failed: "
                        + output.trim());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running ps", e);
        } finally {
            ps.destroy();
        }
        return parse(output, pids);
    }

    /** Keeps the rows whose PID is one of {@code pids}; the last column takes the rest of its line. */
    static Top parse(String output, List<Long> pids) {
        List<String> lines = output.lines().filter(line -> !line.isBlank()).toList();
        if (lines.isEmpty()) {
            throw new IllegalArgumentException("ps printed nothing");
        }
        List<String> titles = List.of(lines.get(0).trim().split("\\s+"));
        int pidColumn = titles.indexOf("PID");
        if (pidColumn < 0) {
            throw new IllegalArgumentException("Couldn't find PID field in ps output");
        }
        Set<String> wanted = pids.stream().map(String::valueOf).collect(Collectors.toSet());
        List<List<String>> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            List<String> fields = List.of(line.trim().split("\\s+", titles.size()));
            if (fields.size() > pidColumn && wanted.contains(fields.get(pidColumn))) {
                rows.add(fields);
            }
        }
        return new Top(titles, rows);
    }
}
