package io.berth.images;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BackgroundDigestTest {

    private static byte[] sha256(byte[] data, int length) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(data, 0, length);
        return md.digest();
    }

    @Test
    void hashesExactlyWhatWasReadWhateverTheReadSizes() throws Exception {
        byte[] data = new byte[3 * (1 << 18) + 12345]; // more than the chunks in flight, and not a multiple of one
        new Random(7).nextBytes(data);
        BackgroundDigest in = new BackgroundDigest(new ByteArrayInputStream(data), MessageDigest.getInstance("SHA-256"));
        Random sizes = new Random(8);
        byte[] buffer = new byte[1 << 20];
        int total = 0;
        while (true) {
            int n = switch (sizes.nextInt(3)) {
                case 0 -> { int b = in.read(); if (b >= 0) { buffer[0] = (byte) b; } yield b < 0 ? -1 : 1; }
                case 1 -> in.read(buffer, 0, 512);
                default -> in.read(buffer, 0, buffer.length);
            };
            if (n < 0) {
                break;
            }
            total += n;
        }
        assertEquals(data.length, total);
        assertArrayEquals(sha256(data, data.length), in.digest());
        assertArrayEquals(sha256(data, data.length), in.digest(), "asked again, the same digest");
    }

    @Test
    void skippedBytesAreHashedAndAStreamLeftEarlyGivesTheDigestOfWhatWasRead() throws Exception {
        byte[] data = new byte[100_000];
        new Random(9).nextBytes(data);
        BackgroundDigest in = new BackgroundDigest(new ByteArrayInputStream(data), MessageDigest.getInstance("SHA-256"));
        assertEquals(1000, in.readNBytes(1000).length);
        assertEquals(20_000, in.skip(20_000));
        assertArrayEquals(sha256(data, 21_000), in.digest());
    }

    @Test
    void aReadFailureLeavesTheDigestUsableSoItsThreadEnds() throws Exception {
        InputStream failing = new InputStream() {
            private int left = 5000;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0];
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (left == 0) {
                    throw new IOException("cut");
                }
                int n = Math.min(len, left);
                java.util.Arrays.fill(b, off, off + n, (byte) 1);
                left -= n;
                return n;
            }
        };
        BackgroundDigest in = new BackgroundDigest(failing, MessageDigest.getInstance("SHA-256"));
        byte[] ones = new byte[5000];
        java.util.Arrays.fill(ones, (byte) 1);
        try {
            in.readAllBytes();
        } catch (IOException expected) {
            assertEquals("cut", expected.getMessage());
        }
        assertArrayEquals(sha256(ones, ones.length), in.digest());
    }
}
