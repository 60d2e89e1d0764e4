package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonLinesOutputTest {

    private final ByteArrayOutputStream response = new ByteArrayOutputStream();
    private final JsonLinesOutput output = new JsonLinesOutput(new ObjectMapper(), response);

    private List<String> lines() {
        return response.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void eachWriteBecomesOneJsonLine() throws Exception {
        OutputStream stdout = output.stream("stdout");
        OutputStream stderr = output.stream("stderr");
        stdout.write("two\nlines\n".getBytes(StandardCharsets.UTF_8));
        stderr.write("oops \"quoted\"".getBytes(StandardCharsets.UTF_8));

        assertEquals(List.of(
                "{\"stream\":\"stdout\",\"text\":\"two\\nlines\\n\"}",
                "{\"stream\":\"stderr\",\"text\":\"oops \\\"quoted\\\"\"}"), lines());
    }

    @Test
    void characterSplitAcrossWritesArrivesWhole() throws Exception {
        byte[] text = "grüß €".getBytes(StandardCharsets.UTF_8); // ü, ß: 2 bytes; €: 3 bytes
        OutputStream stdout = output.stream("stdout");
        stdout.write(text, 0, 3);                // "gr" and the first byte of ü
        stdout.write(text, 3, text.length - 4);  // rest of ü .. first two bytes of €
        stdout.write(text[text.length - 1]);     // last byte of €, alone

        assertEquals(List.of(
                "{\"stream\":\"stdout\",\"text\":\"gr\"}",
                "{\"stream\":\"stdout\",\"text\":\"üß \"}",
                "{\"stream\":\"stdout\",\"text\":\"€\"}"), lines());
    }

    @Test
    void exitCodeEndsTheOutput() throws Exception {
        output.stream("stdout").write('x');
        output.exit(3);
        assertEquals(List.of("{\"stream\":\"stdout\",\"text\":\"x\"}", "{\"exitCode\":3}"), lines());
    }

    @Test
    void bytesThatAreNotTextArriveUnchangedAsBase64() throws Exception {
        OutputStream stdout = output.stream("stdout");
        stdout.write(new byte[] {'a', (byte) 0xc3}); // "a" and the first byte of a 2-byte character ...
        stdout.write(new byte[] {(byte) 0xff, 0, 'b'}); // ... that never comes: not text
        stdout.write("then text".getBytes(StandardCharsets.UTF_8));

        assertEquals(List.of(
                "{\"stream\":\"stdout\",\"text\":\"a\"}",
                "{\"stream\":\"stdout\",\"data\":\""
                        + java.util.Base64.getEncoder().encodeToString(new byte[] {(byte) 0xc3, (byte) 0xff, 0, 'b'})
                        + "\"}",
                "{\"stream\":\"stdout\",\"text\":\"then text\"}"), lines());
    }

    @Test
    void controlMessagesForTheClient() throws Exception {
        output.stdinWanted();
        output.raw(true);
        output.raw(false);
        assertEquals(List.of("{\"stdin\":true}", "{\"raw\":true}", "{\"raw\":false}"), lines());
    }
}
