package io.berth.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.spi.containers.LogOptions;
import io.berth.spi.containers.LogReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class K8sFileLogReaderTest {

    @TempDir
    Path dir;

    private static final String LOG = """
            2026-11-22T11:29:00.100000000+00:00 stdout F one
            2026-11-22T11:29:01.000000000+00:00 stderr F err one
            2026-11-22T11:29:02.000000000+00:00 stdout P tw
            2026-11-22T11:29:02.500000000+00:00 stderr F err two
            2026-11-22T11:29:03.000000000+00:00 stdout F o
            not a record
            2026-11-22T11:29:04.000000000+00:00 stdout F\s
            2026-11-22T11:29:05.000000000+00:00 stdout F three
            """;

    private Path log(String content) throws IOException {
        return Files.writeString(dir.resolve("c.log"), content);
    }

    private static List<String> read(LogReader reader) throws IOException {
        List<String> lines = new ArrayList<>();
        for (LogReader.Entry entry; (entry = reader.next()) != null; ) {
            lines.add(entry.stream() + ":" + new String(entry.data(), StandardCharsets.UTF_8));
        }
        return lines;
    }

    @Test
    void joinsPartialLinesPerStreamAndSkipsMalformedRecords() throws IOException {
        try (LogReader reader = new K8sFileLogReader(log(LOG), LogOptions.ALL, () -> false)) {
            assertEquals(List.of("1:one\n", "2:err one\n", "2:err two\n", "1:two\n", "1:\n", "1:three\n"),
                    read(reader));
        }
    }

    @Test
    void selectsStreamsTailSinceAndUntil() throws IOException {
        Path file = log(LOG);
        assertEquals(List.of("2:err one\n", "2:err two\n"),
                read(new K8sFileLogReader(file, new LogOptions(false, true, false, -1, null, null), () -> false)));
        assertEquals(List.of("1:\n", "1:three\n"),
                read(new K8sFileLogReader(file, new LogOptions(true, true, false, 2, null, null), () -> false)));
        assertEquals(List.of(),
                read(new K8sFileLogReader(file, new LogOptions(true, true, false, 0, null, null), () -> false)));
        Instant since = Instant.parse("2026-11-22T11:29:02.500Z");
        Instant until = Instant.parse("2026-11-22T11:29:04Z");
        assertEquals(List.of("2:err two\n", "1:two\n"),
                read(new K8sFileLogReader(file, new LogOptions(true, true, false, -1, since, until), () -> false)));
    }

    @Test
    void followGivesNewRecordsAndEndsWhenTheWriterStoppedAndTheFileIsDrained() throws Exception {
        Path file = log("2026-11-22T11:29:00.000000000+00:00 stdout F first\n");
        AtomicBoolean writing = new AtomicBoolean(true);
        LogReader reader = new K8sFileLogReader(file, new LogOptions(true, true, true, 0, null, null),
                writing::get);
        CompletableFuture<List<String>> lines = CompletableFuture.supplyAsync(() -> {
            try {
                return read(reader);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        Files.writeString(file, "2026-11-22T11:29:01.000000000+00:00 stdout P sec", StandardOpenOption.APPEND);
        Files.writeString(file, "ond\n2026-11-22T11:29:01.000000000+00:00 stdout F !\n", StandardOpenOption.APPEND);
        Files.writeString(file, "2026-11-22T11:29:02.000000000+00:00 stderr F last\n", StandardOpenOption.APPEND);
        writing.set(false);
        assertEquals(List.of("1:second!\n", "2:last\n"), lines.get(10, TimeUnit.SECONDS));
    }

    @Test
    void closingEndsAFollow() throws Exception {
        LogReader reader = new K8sFileLogReader(dir.resolve("not-yet"), new LogOptions(true, true, true, -1, null,
                null), () -> true);
        CompletableFuture<LogReader.Entry> next = CompletableFuture.supplyAsync(() -> {
            try {
                return reader.next();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        reader.close();
        assertNull(next.get(10, TimeUnit.SECONDS));
        assertTrue(next.isDone());
    }
}
