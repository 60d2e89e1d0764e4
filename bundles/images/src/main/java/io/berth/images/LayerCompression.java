package io.berth.images;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/** How a layer tar is compressed: from a registry's media type, or sniffed from an archive's bytes. */
enum LayerCompression {
    NONE, GZIP;

    /** The uncompressed tar. */
    InputStream open(BufferedInputStream in) throws IOException {
        return this == GZIP ? new GzipCompressorInputStream(in, true) : in;
    }

    /** The compression a layer's media type names; an unknown or unsupported one is an error naming it. */
    static LayerCompression ofMediaType(String mediaType, String digest) throws IOException {
        if (mediaType == null) {
            throw new IOException("layer " + digest + " has no media type");
        }
        if (mediaType.endsWith("+zstd") || mediaType.endsWith(".tar.zstd")) {
            throw new IOException("cannot unpack layer " + digest + " (" + mediaType
                    + "): zstd layers are not supported yet");
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
        in.mark(2);
        int first = in.read();
        int second = in.read();
        in.reset();
        return first == 0x1f && second == 0x8b ? GZIP : NONE;
    }

    /** The stream, decompressed as its first bytes say. */
    static InputStream decompressed(BufferedInputStream in) throws IOException {
        return sniff(in).open(in);
    }
}
