package io.berth.containers.files;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/** Builds tars entry by entry (hostile ones too) and reads them back, for the tests. */
final class Tars {

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes, "UTF-8");

    Tars() {
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    }

    Tars dir(String name) throws IOException {
        return put(entry(name.endsWith("/") ? name : name + "/", TarConstants.LF_DIR, 0755), null);
    }

    Tars file(String name, String content) throws IOException {
        return file(name, content, 0644, 0, 0);
    }

    Tars file(String name, String content, int mode, int uid, int gid) throws IOException {
        TarArchiveEntry entry = entry(name, TarConstants.LF_NORMAL, mode);
        entry.setUserId(uid);
        entry.setGroupId(gid);
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        entry.setSize(data.length);
        return put(entry, data);
    }

    Tars symlink(String name, String target) throws IOException {
        TarArchiveEntry entry = entry(name, TarConstants.LF_SYMLINK, 0777);
        entry.setLinkName(target);
        return put(entry, null);
    }

    Tars hardlink(String name, String target) throws IOException {
        TarArchiveEntry entry = entry(name, TarConstants.LF_LINK, 0644);
        entry.setLinkName(target);
        return put(entry, null);
    }

    Tars charDevice(String name, int major, int minor) throws IOException {
        TarArchiveEntry entry = entry(name, TarConstants.LF_CHR, 0666);
        entry.setDevMajor(major);
        entry.setDevMinor(minor);
        return put(entry, null);
    }

    byte[] bytes() throws IOException {
        tar.finish();
        return bytes.toByteArray();
    }

    private static TarArchiveEntry entry(String name, byte type, int mode) {
        TarArchiveEntry entry = new TarArchiveEntry(name, type, true);
        entry.setMode(mode);
        return entry;
    }

    private Tars put(TarArchiveEntry entry, byte[] data) throws IOException {
        tar.putArchiveEntry(entry);
        if (data != null) {
            tar.write(data);
        }
        tar.closeArchiveEntry();
        return this;
    }

    /** Entry name -> content (files), "-> target" (symlinks), "=> target" (hard links) or "" (directories). */
    static Map<String, String> read(byte[] tarBytes) throws IOException {
        Map<String, String> entries = new LinkedHashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tarBytes))) {
            for (TarArchiveEntry entry; (entry = in.getNextEntry()) != null; ) {
                String value = entry.isSymbolicLink() ? "-> " + entry.getLinkName()
                        : entry.isLink() ? "=> " + entry.getLinkName()
                        : entry.isDirectory() ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
                entries.put(entry.getName(), value);
            }
        }
        return entries;
    }
}
