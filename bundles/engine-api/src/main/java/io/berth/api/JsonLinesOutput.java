package io.berth.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Writes a command's output as JSON lines, one message per write and each
 * flushed at once, so a client shows output while the command runs:
 * {@code {"stream":"stdout","text":"..."}}, and at the end {@code {"exitCode":0}}.
 * Output that is not UTF-8 text (a tar on stdout, a container's binary output)
 * goes as base64 bytes instead: {@code {"stream":"stdout","data":"..."}}.
 * Between them, control messages for the client: {@code {"stdin":true}} once
 * the command reads its stdin, {@code {"raw":true|false}} when it wants the
 * client's terminal in raw mode or back.
 */
final class JsonLinesOutput {

    private final ObjectMapper json;
    private final OutputStream response;

    JsonLinesOutput(ObjectMapper json, OutputStream response) {
        this.json = json;
        this.response = response;
    }

    /** A byte stream whose text becomes messages of the given stream name. */
    OutputStream stream(String name) {
        return new OutputStream() {
            // Bytes of a character split across two writes wait here for the rest.
            private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT);
            private ByteBuffer pending = ByteBuffer.allocate(0);

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public synchronized void write(byte[] bytes, int offset, int length) throws IOException {
                ByteBuffer input = ByteBuffer.allocate(pending.remaining() + length);
                input.put(pending).put(bytes, offset, length).flip();
                CharBuffer text = CharBuffer.allocate(input.remaining() + 1);
                CoderResult result = decoder.decode(input, text, false);
                if (result.isError()) {
                    // not text: all of it as bytes, so nothing is lost or changed
                    decoder.reset();
                    pending = ByteBuffer.allocate(0);
                    send(json.createObjectNode().put("stream", name)
                            .put("data", Base64.getEncoder().encodeToString(input.rewind().array())));
                    return;
                }
                pending = input.slice();
                text.flip();
                if (text.hasRemaining()) {
                    send(json.createObjectNode().put("stream", name).put("text", text.toString()));
                }
            }
        };
    }

    /** Tells the client that the command reads its stdin: it starts sending it. */
    void stdinWanted() throws IOException {
        send(json.createObjectNode().put("stdin", true));
    }

    /** Asks the client to put its terminal into raw mode, or back. */
    void raw(boolean raw) throws IOException {
        send(json.createObjectNode().put("raw", raw));
    }

    void exit(int exitCode) throws IOException {
        send(json.createObjectNode().put("exitCode", exitCode));
    }

    private void send(ObjectNode message) throws IOException {
        byte[] line = (json.writeValueAsString(message) + "\n").getBytes(StandardCharsets.UTF_8);
        synchronized (response) {
            response.write(line);
            response.flush();
        }
    }
}
