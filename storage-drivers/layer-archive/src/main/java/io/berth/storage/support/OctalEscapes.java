package io.berth.storage.support;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The {@code \ooo} escapes the kernel (mount points in /proc/self/mountinfo)
 * and attr's getfattr (file names, attribute values) write for bytes they
 * will not print as they are.
 */
public final class OctalEscapes {

    private OctalEscapes() {
    }

    /** The bytes {@code raw} stands for once every {@code \ooo} is turned back into its byte. */
    public static byte[] decode(byte[] raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length);
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == '\\' && i + 3 < raw.length && isOctal(raw[i + 1]) && isOctal(raw[i + 2]) && isOctal(raw[i + 3])) {
                out.write(((raw[i + 1] - '0') << 6) | ((raw[i + 2] - '0') << 3) | (raw[i + 3] - '0'));
                i += 3;
            } else {
                out.write(raw[i]);
            }
        }
        return out.toByteArray();
    }

    /** {@link #decode} for text whose bytes are UTF-8, such as a path. */
    public static String decodeUtf8(String text) {
        if (text.indexOf('\\') < 0) {
            return text;
        }
        return new String(decode(text.getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
    }

    private static boolean isOctal(byte b) {
        return b >= '0' && b <= '7';
    }
}
