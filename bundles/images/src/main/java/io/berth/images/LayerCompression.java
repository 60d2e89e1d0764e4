package io.berth.images;

import com.github.luben.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.tukaani.xz.XZInputStream;

/**
 * How a tar is compressed: a layer's from a registry's media type, or any from its first bytes (layers in
 * archives, whole archives, and rootfs tars for import, where Docker accepts bzip2 and xz too).
 */
enum LayerCompression {
    NONE, GZIP, ZSTD, BZIP2, XZ;

    /** The uncompressed tar. */
    InputStream open(BufferedInputStream in) throws IOException {
        return switch (this) {
            case NONE -> in;
            case GZIP -> new GzipCompressorInputStream(in, true);
            // zstd-jni's stream reads concatenated frames, as a layer written by several writers may hold.
            case ZSTD -> new ZstdInputStream(in);
            case BZIP2 -> new BZip2CompressorInputStream(in, true);
            case XZ -> new XZInputStream(in);
        };
    }

    /** The compression a layer's media type names; an unknown one is an error naming it. */
    static LayerCompression ofMediaType(String mediaType, String digest) throws IOException {
        if (mediaType == null) {
            throw new IOException("layer " + digest + " has no media type");
        }
        if (mediaType.endsWith("+zstd") || mediaType.endsWith(".tar.zstd")) {
            return ZSTD;
        }
        if (mediaType.endsWith("+gzip") || mediaType.endsWith(".tar.gzip")) {
            return GZIP;
        }
        if (mediaType.endsWith(".tar") || mediaType.endsWith("diff.tar")) {
            return NONE;
        }
        throw new IOException("cannot unpack layer " + digest + ": unsupported media type " + mediaType);
    }

    /** The compression the stream's first bytes show (the stream is left where it was). */
    static LayerCompression sniff(BufferedInputStream in) throws IOException {
        byte[] magic = new byte[6];
        in.mark(magic.length);
        int read = in.readNBytes(magic, 0, magic.length);
        in.reset();
        if (read >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            return GZIP;
        }
        if (read >= 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5 && (magic[2] & 0xff) == 0x2f
                && (magic[3] & 0xff) == 0xfd) {
            return ZSTD;
        }
        if (read >= 3 && magic[0] == 'B' && magic[1] == 'Z' && magic[2] == 'h') {
            return BZIP2;
        }
        if (read == 6 && (magic[0] & 0xff) == 0xfd && magic[1] == '7' && magic[2] == 'z' && magic[3] == 'X'
                && magic[4] == 'Z' && magic[5] == 0) {
            return XZ;
        }
        return NONE;
    }

    /** The stream, decompressed as its first bytes say. */
    static InputStream decompressed(BufferedInputStream in) throws IOException {
        return sniff(in).open(in);
    }
}
