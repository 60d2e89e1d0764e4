package io.berth.storage.archive;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/** Builds test tars, hostile ones included, with Commons Compress. */
final class Tars {

    static final FileTime THEN = FileTime.fromMillis(1_580_608_922_000L); // 2020-02-02T02:02:02Z

    private Tars() {
    }

    /** One entry and, for regular files, its content. */
    record Entry(TarArchiveEntry header, byte[] content) {
    }

    static byte[] of(Entry... entries) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            for (Entry entry : entries) {
                tar.putArchiveEntry(entry.header());
                if (entry.content() != null) {
                    tar.write(entry.content());
                }
                tar.closeArchiveEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static TarArchiveEntry header(String name, byte type) {
        TarArchiveEntry header = new TarArchiveEntry(name, type, true); // keep absolute names as given
        header.setModTime(THEN);
        header.setUserName("");
        header.setGroupName("");
        return header;
    }

    static Entry file(String name, String content) {
        return file(name, content, h -> { });
    }

    static Entry file(String name, String content, Consumer<TarArchiveEntry> tweak) {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry header = header(name, TarConstants.LF_NORMAL);
        header.setMode(0644);
        header.setSize(bytes.length);
        tweak.accept(header);
        return new Entry(header, bytes);
    }

    static Entry dir(String name) {
        return dir(name, h -> { });
    }

    static Entry dir(String name, Consumer<TarArchiveEntry> tweak) {
        TarArchiveEntry header = header(name.endsWith("/") ? name : name + "/", TarConstants.LF_DIR);
        header.setMode(0755);
        tweak.accept(header);
        return new Entry(header, null);
    }

    static Entry symlink(String name, String target) {
        TarArchiveEntry header = header(name, TarConstants.LF_SYMLINK);
        header.setMode(0777);
        header.setLinkName(target);
        return new Entry(header, null);
    }

    static Entry hardlink(String name, String target) {
        TarArchiveEntry header = header(name, TarConstants.LF_LINK);
        header.setMode(0644);
        header.setLinkName(target);
        return new Entry(header, null);
    }

    static Entry charDevice(String name, int major, int minor) {
        TarArchiveEntry header = header(name, TarConstants.LF_CHR);
        header.setMode(0666);
        header.setDevMajor(major);
        header.setDevMinor(minor);
        return new Entry(header, null);
    }

    /** A header with string PAX records (Commons' own, UTF-8: fine for text values). */
    static Consumer<TarArchiveEntry> pax(Map<String, String> records) {
        return header -> records.forEach(header::addPaxHeader);
    }
}
