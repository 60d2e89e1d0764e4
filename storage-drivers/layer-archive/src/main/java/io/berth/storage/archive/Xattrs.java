package io.berth.storage.archive;

import io.berth.storage.support.OctalEscapes;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Extended attributes through Debian's {@code attr} tools.
 *
 * <p>Java reaches only the {@code user.*} namespace ({@code UserDefinedFileAttributeView});
 * layers need {@code security.capability} and {@code trusted.*} too. To stay pure Java the
 * library runs {@code getfattr} once per tree it reads and {@code setfattr --restore} once per
 * extraction, never once per file. Values travel as hex, so binary values are exact.
 */
final class Xattrs {

    private static final HexFormat HEX = HexFormat.of();

    private Xattrs() {
    }

    /**
     * Whether an attribute belongs in a layer. Left out: {@code system.*} (ACLs, which tar
     * keeps apart from xattrs), {@code security.selinux} (the host's labels, not the image's)
     * and overlayfs' own bookkeeping ({@code trusted.overlay.*}, {@code user.overlay.*}),
     * which a hostile layer must never be able to plant and which the overlay whiteout
     * conversion handles itself.
     */
    static boolean belongsInLayer(String name) {
        if (name.startsWith("user.overlay.")) {
            return false;
        }
        if (name.startsWith("user.")) {
            return true;
        }
        if (name.startsWith("trusted.")) {
            return !name.startsWith("trusted.overlay.");
        }
        if (name.startsWith("security.")) {
            return !name.equals("security.selinux");
        }
        return false;
    }

    /**
     * Every extended attribute below {@code root} (root itself included), keyed by the path
     * relative to root ({@code ""} for root), then by name, sorted. Symbolic links are not
     * followed; their own attributes are read. Attributes that do not
     * {@linkplain #belongsInLayer belong in a layer} are kept too (the caller filters).
     */
    static Map<String, Map<String, byte[]>> readTree(Path root) throws IOException {
        String prefix = root.toAbsolutePath().normalize().toString();
        List<String> command = List.of("getfattr", "--recursive", "--physical", "--no-dereference",
                "--dump", "--match=-", "--encoding=hex", "--absolute-names", prefix);
        byte[] output = run(command, null, false);
        Map<String, Map<String, byte[]>> result = new HashMap<>();
        String current = null;
        Map<String, byte[]> values = null;
        int start = 0;
        while (start < output.length) {
            int end = start;
            while (end < output.length && output[end] != '\n') {
                end++;
            }
            String line = new String(output, start, end - start, StandardCharsets.ISO_8859_1);
            start = end + 1;
            if (line.startsWith("# file: ")) {
                String path = utf8(unquote(line.substring("# file: ".length())));
                if (path.equals(prefix)) {
                    current = "";
                } else if (path.startsWith(prefix + "/") || prefix.equals("/")) {
                    current = path.substring(prefix.equals("/") ? 1 : prefix.length() + 1);
                } else {
                    throw new IOException("getfattr reported a path outside " + prefix + ": " + path);
                }
                values = new TreeMap<>();
                result.put(current, values);
            } else if (line.isEmpty()) {
                current = null;
            } else if (current != null) {
                int equals = line.indexOf('=');
                if (equals < 0) {
                    throw new IOException("cannot parse getfattr output line: " + line);
                }
                String name = utf8(unquote(line.substring(0, equals)));
                values.put(name, decodeValue(line.substring(equals + 1)));
            }
        }
        return result;
    }

    /** Attributes of one path from a {@link #readTree} result, filtered to those that belong in a layer. */
    static Map<String, byte[]> forLayer(Map<String, Map<String, byte[]>> tree, String relative) {
        Map<String, byte[]> all = tree.get(relative);
        if (all == null || all.isEmpty()) {
            return Collections.emptyMap();
        }
        Map<String, byte[]> kept = new TreeMap<>();
        all.forEach((name, value) -> {
            if (belongsInLayer(name)) {
                kept.put(name, value);
            }
        });
        return kept;
    }

    /**
     * Sets the attributes with one {@code setfattr --restore} run, without following symbolic
     * links. Like Docker, a file system or kernel that refuses an attribute (not supported,
     * not permitted) is tolerated; any other failure is an error.
     *
     * @param attributes absolute path (already checked to be inside the target and not
     *                   below a symbolic link) -> name -> value
     */
    static void apply(Map<Path, Map<String, byte[]>> attributes) throws IOException {
        if (attributes.isEmpty()) {
            return;
        }
        ByteArrayOutputStream dump = new ByteArrayOutputStream();
        for (Map.Entry<Path, Map<String, byte[]>> file : attributes.entrySet()) {
            if (file.getValue().isEmpty()) {
                continue;
            }
            dump.writeBytes(ascii("# file: "));
            quote(file.getKey().toString(), dump);
            dump.write('\n');
            for (Map.Entry<String, byte[]> attribute : file.getValue().entrySet()) {
                quote(attribute.getKey(), dump);
                dump.writeBytes(ascii("=0x" + HEX.formatHex(attribute.getValue()) + "\n"));
            }
            dump.write('\n');
        }
        run(List.of("setfattr", "--no-dereference", "--restore=-"), dump.toByteArray(), true);
    }

    /** attr's quoting: backslash, '=' and control characters as backslash and three octal digits. */
    private static void quote(String text, ByteArrayOutputStream out) {
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c < 0x20 || c == 0x7f || c == '\\' || c == '=') {
                out.write('\\');
                out.write('0' + (c >> 6));
                out.write('0' + ((c >> 3) & 7));
                out.write('0' + (c & 7));
            } else {
                out.write(c);
            }
        }
    }

    /** Reverses attr's quoting on a line read as ISO-8859-1 (one char per byte); returns the bytes. */
    private static byte[] unquote(String text) {
        return OctalEscapes.decode(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static byte[] decodeValue(String value) throws IOException {
        if (value.startsWith("0x") || value.startsWith("0X")) {
            try {
                return HEX.parseHex(value.substring(2));
            } catch (IllegalArgumentException e) {
                throw new IOException("cannot parse getfattr value " + value, e);
            }
        }
        if (value.startsWith("0s") || value.startsWith("0S")) {
            return java.util.Base64.getDecoder().decode(value.substring(2));
        }
        if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
            return unquote(value.substring(1, value.length() - 1));
        }
        throw new IOException("cannot parse getfattr value " + value);
    }

    private static String utf8(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Runs a tool and returns its standard output. A non-zero exit is an error; when
     * {@code tolerateRefusals} is set, stderr lines saying the file system or kernel refused
     * an operation ("Operation not supported", "Operation not permitted") are not.
     */
    static byte[] run(List<String> command, byte[] input, boolean tolerateRefusals) throws IOException {
        Process process;
        try {
            process = new ProcessBuilder(command).start();
        } catch (IOException e) {
            throw new IOException("cannot run " + command.get(0) + " (on Debian it is in package "
                    + packageOf(command.get(0)) + "): " + e.getMessage(), e);
        }
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        Thread errorReader = new Thread(() -> {
            try (InputStream in = process.getErrorStream()) {
                in.transferTo(errors);
            } catch (IOException e) {
                // the process died; its exit code tells
            }
        }, "berth-" + command.get(0) + "-stderr");
        errorReader.setDaemon(true);
        errorReader.start();
        byte[] output;
        try {
            try (var stdin = process.getOutputStream()) {
                if (input != null) {
                    stdin.write(input);
                }
            }
            output = process.getInputStream().readAllBytes();
            if (!process.waitFor(10, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new IOException(command.get(0) + " did not finish");
            }
            errorReader.join(10_000);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + command.get(0), e);
        } finally {
            process.getInputStream().close();
        }
        if (process.exitValue() != 0) {
            String stderr;
            synchronized (errors) {
                stderr = errors.toString(StandardCharsets.UTF_8);
            }
            List<String> serious = new ArrayList<>();
            for (String line : stderr.split("\n")) {
                if (line.isBlank()) {
                    continue;
                }
                if (tolerateRefusals
                        && (line.endsWith("Operation not supported") || line.endsWith("Operation not permitted"))) {
                    continue;
                }
                serious.add(line);
            }
            if (!tolerateRefusals || !serious.isEmpty()) {
                throw new IOException(String.join(" ", command) + " failed (exit " + process.exitValue() + "): "
                        + (serious.isEmpty() ? stderr.strip() : String.join("; ", serious)));
            }
        }
        return output;
    }

    private static String packageOf(String tool) {
        return switch (tool) {
            case "getfattr", "setfattr" -> "attr";
            default -> "coreutils";
        };
    }
}
