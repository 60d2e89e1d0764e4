package io.berth.images;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipParameters;
import org.junit.jupiter.api.Test;

class GzippingInputStreamTest {

    /** 3 MB: random bytes, then text, so that the deflater both stores and matches, across many chunks. */
    private static byte[] mixed() {
        byte[] random = new byte[2_000_000];
        new Random(3).nextBytes(random);
        StringBuilder text = new StringBuilder();
        while (text.length() < 1_000_000) {
            text.append("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ").append(text.length())
                    .append('\n');
        }
        byte[] textBytes = text.toString().getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[random.length + textBytes.length];
        System.arraycopy(random, 0, all, 0, random.length);
        System.arraycopy(textBytes, 0, all, random.length, textBytes.length);
        return all;
    }

    private static GzipParameters parameters(int level) {
        GzipParameters parameters = new GzipParameters();
        parameters.setCompressionLevel(level);
        parameters.setModificationTime(0);
        parameters.setOperatingSystem(255);
        return parameters;
    }

    /** What Commons Compress writes when given the whole input at once. */
    private static byte[] written(byte[] data, int level) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GzipCompressorOutputStream gzip = new GzipCompressorOutputStream(bytes, parameters(level))) {
            gzip.write(data);
        }
        return bytes.toByteArray();
    }

    @Test
    void readingGivesWhatCommonsCompressWritesWhateverTheReadSizes() throws IOException {
        byte[] data = mixed();
        for (int level : new int[] {1, 6}) {
            byte[] expected = written(data, level);
            try (InputStream in = new GzippingInputStream(new ByteArrayInputStream(data), parameters(level))) {
                assertArrayEquals(expected, in.readAllBytes(), "level " + level + ", large reads");
            }
            ByteArrayOutputStream small = new ByteArrayOutputStream();
            try (InputStream in = new GzippingInputStream(new ByteArrayInputStream(data), parameters(level))) {
                byte[] buffer = new byte[7];
                for (int n; (n = in.read(buffer, 0, 1 + small.size() % 7)) >= 0; ) {
                    small.write(buffer, 0, n);
                }
                assertEquals(-1, in.read(), "stays at its end");
            }
            assertArrayEquals(expected, small.toByteArray(), "level " + level + ", small reads");
            try (InputStream tar = new GZIPInputStream(new ByteArrayInputStream(expected))) {
                assertArrayEquals(data, tar.readAllBytes(), "level " + level + " decompresses to the input");
            }
        }
    }

    @Test
    void anEmptyStreamGivesAWholeGzipOfNothing() throws IOException {
        byte[] gzip;
        try (InputStream in = new GzippingInputStream(new ByteArrayInputStream(new byte[0]), parameters(6))) {
            gzip = in.readAllBytes();
        }
        assertArrayEquals(written(new byte[0], 6), gzip);
        assertTrue(gzip.length >= 18, "header and trailer");
    }

    @Test
    void closingTheStreamClosesItsSource() throws IOException {
        boolean[] closed = {false};
        InputStream source = new ByteArrayInputStream(new byte[100]) {
            @Override
            public void close() {
                closed[0] = true;
            }
        };
        new GzippingInputStream(source, parameters(6)).close();
        assertTrue(closed[0]);
    }
}
