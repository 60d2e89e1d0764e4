package io.berth.storage.archive;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Extracts and writes OCI layer tars. */
public final class LayerTar {

    private LayerTar() {
    }

    /**
     * Extracts an (uncompressed) OCI layer tar into dir.
     *
     * <p>OCI: dir holds the full view (parent content + this layer): {@code .wh.NAME} deletes
     * dir/NAME (recursively); {@code .wh..wh..opq} in D deletes every child of D not created by
     * this same tar.
     *
     * <p>OVERLAY: dir is an overlayfs upper dir: {@code .wh.NAME} becomes a char device 0/0 at
     * NAME; {@code .wh..wh..opq} sets xattr {@code trusted.overlay.opaque=y} on D.
     *
     * <p>The tar is treated as hostile: absolute names, names climbing out of dir, entries or
     * hard link targets reached through a symbolic link, hard links out of dir or to a link, and
     * corrupt or truncated archives are refused with a {@link LayerArchiveException} naming the
     * entry, before anything is written outside dir. Extended attributes that are overlayfs'
     * own ({@code trusted.overlay.*}) are never taken from a tar. The stream is read to its end
     * (so that a digest-verifying stream sees all of it) but not closed.
     *
     * @return the number of bytes of file content written
     */
    public static long extract(InputStream tar, Path dir, WhiteoutFormat format) throws IOException {
        return new TarExtractor(dir, format).extract(tar);
    }

    /**
     * Writes dir's whole tree as a layer tar (entries relative, dirs with trailing '/', sorted,
     * hardlinks detected by inode as link entries). The root directory itself has no entry.
     * The stream is flushed, not closed.
     *
     * <p>OVERLAY: converts overlay markers found in dir back into OCI whiteouts (0/0 char dev
     * -> {@code .wh.NAME} entry; dir with {@code trusted.overlay.opaque=y} -> dir entry plus
     * {@code DIR/.wh..wh..opq}).
     */
    public static void write(Path dir, OutputStream out, WhiteoutFormat format) throws IOException {
        FileStat top = FileStat.lstat(dir);
        if (top == null || !top.isDirectory()) {
            throw new IOException(dir + " is not a directory");
        }
        Map<String, Map<String, byte[]>> xattrs = Xattrs.readTree(dir);
        TarWriter writer = new TarWriter(out, xattrs);
        writeChildren(dir, "", writer, xattrs, format);
        writer.finish();
    }

    private static void writeChildren(Path root, String relative, TarWriter writer,
            Map<String, Map<String, byte[]>> xattrs, WhiteoutFormat format) throws IOException {
        Path dir = relative.isEmpty() ? root : root.resolve(relative);
        for (String name : sortedNames(dir)) {
            String child = relative.isEmpty() ? name : relative + "/" + name;
            FileStat stat = FileStat.lstat(root.resolve(child));
            if (stat == null) {
                continue; // vanished while we looked
            }
            if (format == WhiteoutFormat.OVERLAY && stat.isOverlayWhiteout()) {
                writer.addWhiteout(relative, name, stat);
                continue;
            }
            writer.add(root, child, stat);
            if (stat.isDirectory()) {
                if (format == WhiteoutFormat.OVERLAY && isOpaque(xattrs.get(child))) {
                    writer.addOpaqueMarker(child, stat);
                }
                writeChildren(root, child, writer, xattrs, format);
            }
        }
    }

    static boolean isOpaque(Map<String, byte[]> attributes) {
        if (attributes == null) {
            return false;
        }
        byte[] trusted = attributes.get("trusted.overlay.opaque");
        byte[] user = attributes.get("user.overlay.opaque");
        return Arrays.equals(trusted, new byte[] {'y'}) || Arrays.equals(user, new byte[] {'y'});
    }

    /** The names in a directory (not following links; dir is known to be a directory), sorted. */
    public static List<String> sortedNames(Path dir) throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            for (Path child : stream) {
                names.add(child.getFileName().toString());
            }
        }
        names.sort(null);
        return names;
    }
}
