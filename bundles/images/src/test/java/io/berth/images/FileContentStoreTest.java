package io.berth.images;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The content store on real files. */
class FileContentStoreTest {

    private static final byte[] HELLO = "hello, berth\n".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path root;

    private FileContentStore store;

    @BeforeEach
    void setUp() throws IOException {
        store = new FileContentStore(root);
    }

    @Test
    void roundTrip() throws Exception {
        String digest = sha256(HELLO);
        assertFalse(store.exists(digest));
        assertEquals(-1, store.size(digest));

        assertEquals(digest, store.write(new ByteArrayInputStream(HELLO), digest, HELLO.length));

        assertTrue(store.exists(digest));
        assertEquals(HELLO.length, store.size(digest));
        try (InputStream in = store.read(digest)) {
            assertArrayEquals(HELLO, in.readAllBytes());
        }
        assertTrue(Files.isRegularFile(root.resolve("blobs/sha256/" + digest.substring(7))));
        assertEquals(List.of(digest), store.list());
        assertTrue(store.verify(digest));
        assertIngestEmpty();
    }

    @Test
    void writeWithoutExpectationsComputesTheDigest() throws Exception {
        assertEquals(sha256(HELLO), store.write(new ByteArrayInputStream(HELLO), null, -1));
        assertEquals(sha256(new byte[0]), store.write(InputStream.nullInputStream(), null, -1));
        assertEquals(2, store.list().size());
    }

    @Test
    void writingAStoredBlobAgainKeepsIt() throws Exception {
        String digest = store.write(new ByteArrayInputStream(HELLO), null, -1);
        assertEquals(digest, store.write(new ByteArrayInputStream(HELLO), digest, HELLO.length));
        assertEquals(List.of(digest), store.list());
        assertTrue(store.verify(digest));
        assertIngestEmpty();
    }

    @Test
    void digestMismatchIsRefusedAndNothingStored() throws Exception {
        String other = sha256("something else".getBytes(StandardCharsets.UTF_8));
        IOException e = assertThrows(IOException.class,
                () -> store.write(new ByteArrayInputStream(HELLO), other, HELLO.length));
        assertTrue(e.getMessage().contains("expected " + other), e.getMessage());
        assertTrue(e.getMessage().contains(sha256(HELLO)), e.getMessage());
        assertFalse(store.exists(other));
        assertFalse(store.exists(sha256(HELLO)));
        assertEquals(List.of(), store.list());
        assertIngestEmpty();
    }

    @Test
    void sizeMismatchIsRefused() throws Exception {
        String digest = sha256(HELLO);
        IOException shorter = assertThrows(IOException.class,
                () -> store.write(new ByteArrayInputStream(HELLO), digest, HELLO.length + 5));
        assertTrue(shorter.getMessage().contains("expected " + (HELLO.length + 5) + " bytes, got " + HELLO.length),
                shorter.getMessage());
        IOException longer = assertThrows(IOException.class,
                () -> store.write(new ByteArrayInputStream(HELLO), digest, 3));
        assertTrue(longer.getMessage().contains("expected 3 bytes"), longer.getMessage());
        // the size is checked even when no digest is expected
        assertThrows(IOException.class, () -> store.write(new ByteArrayInputStream(HELLO), null, 1));
        assertEquals(List.of(), store.list());
        assertIngestEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "sha256:../../etc",
        "sha256:../../../../../../etc/passwd",
        "sha256:0123456789abcdef",
        "sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
        "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
        "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde/",
        "sha256:",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "SHA256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "md5:d41d8cd98f00b204e9800998ecf8427e",
        "../sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ""
    })
    void invalidDigestsAreRefused(String digest) {
        assertThrows(IllegalArgumentException.class,
                () -> store.write(new ByteArrayInputStream(HELLO), digest, -1));
        assertThrows(IllegalArgumentException.class, () -> store.read(digest));
        assertThrows(IllegalArgumentException.class, () -> store.exists(digest));
        assertThrows(IllegalArgumentException.class, () -> store.size(digest));
        assertThrows(IllegalArgumentException.class, () -> store.delete(digest));
        assertThrows(IllegalArgumentException.class, () -> store.verify(digest));
        assertIngestEmpty();
    }

    @Test
    void invalidDigestMessages() {
        IllegalArgumentException traversal = assertThrows(IllegalArgumentException.class,
                () -> store.read("sha256:../../etc"));
        assertTrue(traversal.getMessage().contains("invalid digest"), traversal.getMessage());
        IllegalArgumentException sha512 = assertThrows(IllegalArgumentException.class,
                () -> store.exists("sha512:" + "ab".repeat(64)));
        assertTrue(sha512.getMessage().contains("unsupported digest algorithm"), sha512.getMessage());
        assertThrows(IllegalArgumentException.class, () -> store.exists(null));
    }

    @Test
    void readingAMissingBlobNamesIt() {
        String digest = sha256(HELLO);
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> store.read(digest));
        assertTrue(e.getMessage().contains(digest), e.getMessage());
        assertThrows(NoSuchFileException.class, () -> store.verify(digest));
    }

    @Test
    void deleteAndSortedList() throws Exception {
        List<String> written = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            written.add(store.write(new ByteArrayInputStream(("blob " + i).getBytes(StandardCharsets.UTF_8)), null, -1));
        }
        Files.writeString(root.resolve("blobs/sha256/not-a-digest"), "junk");
        List<String> sorted = new ArrayList<>(written);
        sorted.sort(null);
        assertEquals(sorted, store.list());

        assertTrue(store.delete(written.get(2)));
        assertFalse(store.delete(written.get(2)));
        assertFalse(store.exists(written.get(2)));
        sorted.remove(written.get(2));
        assertEquals(sorted, store.list());
    }

    @Test
    void sameBlobWrittenConcurrently() throws Exception {
        byte[] data = new byte[8 << 20];
        new Random(42).nextBytes(data);
        String digest = sha256(data);
        int threads = 4;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            for (int round = 0; round < 5; round++) {
                CyclicBarrier start = new CyclicBarrier(threads);
                List<Future<String>> results = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    results.add(pool.submit(() -> {
                        start.await(10, TimeUnit.SECONDS);
                        return store.write(new ByteArrayInputStream(data), digest, data.length);
                    }));
                }
                for (Future<String> result : results) {
                    assertEquals(digest, result.get(60, TimeUnit.SECONDS));
                }
                assertEquals(List.of(digest), store.list());
                assertTrue(store.verify(digest));
                assertIngestEmpty();
                if (round % 2 == 1) {
                    assertTrue(store.delete(digest));
                }
            }
        } finally {
            pool.shutdownNow();
        }
        try (InputStream in = store.read(digest)) {
            assertArrayEquals(data, in.readAllBytes());
        }
    }

    @Test
    void crashLeftoversAreRemovedAtStart() throws Exception {
        String digest = store.write(new ByteArrayInputStream(HELLO), null, -1);
        Path ingest = root.resolve("ingest");
        Files.write(ingest.resolve("blob-123.partial"), new byte[1000]);
        Files.write(ingest.resolve("blob-456.partial"), new byte[0]);
        Files.createDirectories(ingest.resolve("stray/dir"));
        Files.write(ingest.resolve("stray/dir/file"), HELLO);

        FileContentStore reopened = new FileContentStore(root);

        assertIngestEmpty();
        assertEquals(List.of(digest), reopened.list());
        assertTrue(reopened.verify(digest));
    }

    @Test
    void startsOnAnEmptyOrMissingRoot() throws Exception {
        FileContentStore fresh = new FileContentStore(root.resolve("does/not/exist/yet"));
        assertEquals(List.of(), fresh.list());
        assertTrue(Files.isDirectory(root.resolve("does/not/exist/yet/blobs/sha256")));
        assertTrue(Files.isDirectory(root.resolve("does/not/exist/yet/ingest")));
    }

    @Test
    void corruptedBlobIsDetectedByVerify() throws Exception {
        byte[] data = new byte[3 << 20];
        new Random(7).nextBytes(data);
        String digest = store.write(new ByteArrayInputStream(data), null, data.length);
        assertTrue(store.verify(digest));

        Path file = store.path(digest);
        byte[] corrupted = data.clone();
        corrupted[corrupted.length / 2] ^= 0x01;
        Files.write(file, corrupted);
        assertFalse(store.verify(digest));

        Files.write(file, new byte[0]);
        assertFalse(store.verify(digest));
    }

    @Test
    void largeBlobIsStreamed() throws Exception {
        long size = 50L << 20;
        MessageDigest expected = MessageDigest.getInstance("SHA-256");
        try (InputStream in = new DigestInputStream(new RandomStream(size, 1234), expected)) {
            String digest = store.write(in, null, size);
            assertEquals("sha256:" + HexFormat.of().formatHex(expected.digest()), digest);
            assertEquals(size, store.size(digest));
            assertTrue(store.verify(digest));
            // the same bytes again, now checked against the expected digest
            assertEquals(digest, store.write(new RandomStream(size, 1234), digest, size));
        }
        assertIngestEmpty();
    }

    private void assertIngestEmpty() {
        try (Stream<Path> entries = Files.list(root.resolve("ingest"))) {
            assertEquals(List.of(), entries.toList());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static String sha256(byte[] data) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** Pseudo-random bytes generated as they are read, never held in memory all at once. */
    private static final class RandomStream extends InputStream {
        private final SplittableRandom random;
        private long remaining;

        RandomStream(long size, long seed) {
            this.remaining = size;
            this.random = new SplittableRandom(seed);
        }

        @Override
        public int read() {
            if (remaining <= 0) {
                return -1;
            }
            remaining--;
            return random.nextInt(256);
        }

        @Override
        public int read(byte[] buffer, int offset, int length) {
            if (remaining <= 0) {
                return -1;
            }
            int n = (int) Math.min(length, remaining);
            for (int i = 0; i < n; i++) {
                buffer[offset + i] = (byte) random.nextInt(256);
            }
            remaining -= n;
            return n;
        }
    }
}
