package io.berth.storage.testsuite;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/** Hand-made layer tars, hostile ones included (names are written exactly as given). */
final class Tars {

    record Entry(TarArchiveEntry header, byte[] content) {
    }

    private Tars() {
    }

    static Entry file(String name, String content) {
        TarArchiveEntry header = new TarArchiveEntry(name, true);
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        header.setSize(bytes.length);
        header.setMode(0100644);
        return new Entry(header, bytes);
    }

    static Entry dir(String name) {
        TarArchiveEntry header = new TarArchiveEntry(name, true);
        header.setMode(040755);
        return new Entry(header, new byte[0]);
    }

    static Entry symlink(String name, String target) {
        TarArchiveEntry header = new TarArchiveEntry(name, TarConstants.LF_SYMLINK, true);
        header.setLinkName(target);
        return new Entry(header, new byte[0]);
    }

    static Entry hardlink(String name, String target) {
        TarArchiveEntry header = new TarArchiveEntry(name, TarConstants.LF_LINK, true);
        header.setLinkName(target);
        return new Entry(header, new byte[0]);
    }

    static byte[] of(Entry... entries) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Entry entry : entries) {
                tar.putArchiveEntry(entry.header());
                tar.write(entry.content());
                tar.closeArchiveEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }
}
