package io.berth.storage.archive;

import java.io.ByteArrayOutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;

/**
 * Tar headers read byte by byte, for what Commons Compress cannot give exactly.
 *
 * <p>Why: Commons Compress (1.27.1, {@code TarUtils.parsePaxHeaders}) decodes every PAX value
 * with {@code new String(bytes, UTF_8)} and offers only those Strings
 * ({@code TarArchiveEntry.getExtraPaxHeaders()}); it has no raw access. Binary values that
 * are not valid UTF-8, such as a {@code security.capability} with a byte 0x80 or above, come
 * out with U+FFFD replacement characters and cannot be recovered. Writing has the mirror
 * problem ({@code addPaxHeader(String, String)} encodes as UTF-8).
 *
 * <p>What instead: the reader still lets Commons Compress parse the archive (names, sizes,
 * sparse files, GNU long names, PAX paths), but reads through a {@link RecordingInputStream}
 * that keeps a copy of every byte Commons consumes while it parses one entry's headers. This
 * class walks that copy (a sequence of 512-byte headers and their data up to the entry's own
 * header) and takes the {@code SCHILY.xattr.*} records from the PAX extended headers as raw
 * bytes (and {@code LIBARCHIVE.xattr.*}, base64, as bsdtar writes them). It also verifies
 * every header's checksum, which Commons does not. The writer builds the PAX extended header
 * itself for the same reason (see {@link TarWriter}).
 */
final class RawHeaders {

    static final int BLOCK = 512;
    private static final String SCHILY_XATTR = "SCHILY.xattr.";
    private static final String LIBARCHIVE_XATTR = "LIBARCHIVE.xattr.";

    private RawHeaders() {
    }

    /**
     * What one entry's headers held that Commons Compress does not keep exactly.
     *
     * @param xattrs       the entry's xattrs, or null at the end
     * @param endOfArchive the walk found the end-of-archive marker (a zero block) instead of an entry
     * @param endOfData    the walk found the end of the data instead of an entry
     */
    record Scan(Map<String, byte[]> xattrs, boolean endOfArchive, boolean endOfData) {
    }

    /**
     * Walks the headers Commons consumed for one entry.
     *
     * @param data          the recorded bytes
     * @param length        how many of them are valid
     * @param startOffset   the archive offset of {@code data[0]}
     * @param globalXattrs  xattrs from global PAX headers; updated when one is found
     * @return the entry's xattrs (global ones included), or {@code endOfArchive} if the walk
     *         reached the end-of-archive marker or end of data instead of an entry header
     */
    static Scan scan(byte[] data, int length, long startOffset, Map<String, byte[]> globalXattrs)
            throws LayerArchiveException {
        int pos = (int) (align(startOffset) - startOffset);
        Map<String, byte[]> local = null;
        boolean extensions = false;
        while (true) {
            if (pos >= length) {
                if (extensions) {
                    throw new LayerArchiveException("truncated tar: extended headers before offset "
                            + (startOffset + pos) + " are not followed by an entry");
                }
                return new Scan(null, false, true);
            }
            if (pos + BLOCK > length) {
                throw new LayerArchiveException("truncated tar: " + (length - pos)
                        + " bytes of a header at offset " + (startOffset + pos));
            }
            if (isZero(data, pos, BLOCK)) {
                if (extensions) {
                    throw new LayerArchiveException("malformed tar: extended headers before offset "
                            + (startOffset + pos) + " are followed by the end of the archive, not an entry");
                }
                return new Scan(null, true, false);
            }
            long headerOffset = startOffset + pos;
            verifyChecksum(data, pos, headerOffset);
            byte type = data[pos + 156];
            long size = parseNumber(data, pos + 124, 12, headerOffset, "size");
            if (type != 'x' && type != 'X' && type != 'g' && type != 'L' && type != 'K') {
                Map<String, byte[]> xattrs = new TreeMap<>(globalXattrs);
                if (local != null) {
                    xattrs.putAll(local);
                }
                return new Scan(xattrs, false, false);
            }
            extensions = true;
            long dataEnd = pos + BLOCK + size;
            if (dataEnd > length) {
                throw new LayerArchiveException("truncated tar: extended header at offset " + headerOffset
                        + " announces " + size + " bytes");
            }
            if (type == 'x' || type == 'X') {
                if (local == null) {
                    local = new TreeMap<>();
                }
                parseRecords(data, pos + BLOCK, (int) size, headerOffset, local);
            } else if (type == 'g') {
                parseRecords(data, pos + BLOCK, (int) size, headerOffset, globalXattrs);
            }
            pos = (int) (pos + BLOCK + align(size));
        }
    }

    /** Reads "LENGTH KEY=VALUE\n" records, keeping the xattr ones in {@code xattrs}. */
    private static void parseRecords(byte[] data, int offset, int size, long headerOffset,
            Map<String, byte[]> xattrs) throws LayerArchiveException {
        int pos = offset;
        int end = offset + size;
        while (pos < end) {
            if (data[pos] == 0) {
                if (isZero(data, pos, end - pos)) {
                    return; // NUL padding after the last record
                }
                throw malformed(headerOffset, "NUL byte inside the records");
            }
            long recordLength = 0;
            int p = pos;
            while (p < end && data[p] >= '0' && data[p] <= '9' && p - pos < 10) {
                recordLength = recordLength * 10 + (data[p] - '0');
                p++;
            }
            if (p == pos || p >= end || data[p] != ' ') {
                throw malformed(headerOffset, "bad record length");
            }
            int recordEnd = (int) Math.min(Integer.MAX_VALUE, pos + recordLength);
            if (recordLength <= p - pos + 1 || pos + recordLength > end || data[recordEnd - 1] != '\n') {
                throw malformed(headerOffset, "record length " + recordLength + " does not fit the header");
            }
            int keyStart = p + 1;
            int equals = keyStart;
            while (equals < recordEnd - 1 && data[equals] != '=') {
                equals++;
            }
            if (equals >= recordEnd - 1 && data[equals] != '=') {
                throw malformed(headerOffset, "record without '='");
            }
            String key = new String(data, keyStart, equals - keyStart, StandardCharsets.UTF_8);
            byte[] value = Arrays.copyOfRange(data, equals + 1, recordEnd - 1);
            if (key.startsWith(SCHILY_XATTR) && key.length() > SCHILY_XATTR.length()) {
                xattrs.put(key.substring(SCHILY_XATTR.length()), value);
            } else if (key.startsWith(LIBARCHIVE_XATTR) && key.length() > LIBARCHIVE_XATTR.length()) {
                try {
                    String name = URLDecoder.decode(key.substring(LIBARCHIVE_XATTR.length()), StandardCharsets.UTF_8);
                    byte[] decoded = Base64.getDecoder().decode(new String(value, StandardCharsets.US_ASCII).strip());
                    xattrs.putIfAbsent(name, decoded); // SCHILY's copy, if both are present, is the same
                } catch (IllegalArgumentException e) {
                    throw malformed(headerOffset, "bad " + key + " record");
                }
            }
            pos = recordEnd;
        }
    }

    private static LayerArchiveException malformed(long headerOffset, String what) {
        return new LayerArchiveException("malformed PAX extended header at offset " + headerOffset + ": " + what);
    }

    private static void verifyChecksum(byte[] data, int pos, long headerOffset) throws LayerArchiveException {
        long stored = parseNumber(data, pos + 148, 8, headerOffset, "checksum");
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < BLOCK; i++) {
            byte b = (i >= 148 && i < 156) ? (byte) ' ' : data[pos + i];
            unsigned += b & 0xff;
            signed += b;
        }
        if (stored != unsigned && stored != signed) {
            throw new LayerArchiveException("corrupt tar header at offset " + headerOffset
                    + ": checksum " + stored + " but the header sums to " + unsigned);
        }
    }

    /** A numeric header field: octal (space or NUL terminated) or GNU base-256. */
    static long parseNumber(byte[] data, int offset, int length, long headerOffset, String field)
            throws LayerArchiveException {
        if ((data[offset] & 0x80) != 0) {
            if (data[offset] == (byte) 0xff) {
                throw new LayerArchiveException("negative " + field + " in tar header at offset " + headerOffset);
            }
            long value = data[offset] & 0x7f;
            for (int i = 1; i < length; i++) {
                if (value > (Long.MAX_VALUE >>> 8)) {
                    throw new LayerArchiveException(field + " too large in tar header at offset " + headerOffset);
                }
                value = (value << 8) | (data[offset + i] & 0xff);
            }
            return value;
        }
        int i = offset;
        int end = offset + length;
        while (i < end && (data[i] == ' ' || data[i] == 0)) {
            i++;
        }
        long value = 0;
        boolean digits = false;
        while (i < end && data[i] >= '0' && data[i] <= '7') {
            value = (value << 3) | (data[i] - '0');
            digits = true;
            i++;
        }
        while (i < end && (data[i] == ' ' || data[i] == 0)) {
            i++;
        }
        if (i != end || (!digits && !field.equals("size"))) {
            throw new LayerArchiveException("malformed " + field + " field in tar header at offset " + headerOffset);
        }
        return value;
    }

    static long align(long n) {
        return (n + BLOCK - 1) / BLOCK * BLOCK;
    }

    private static boolean isZero(byte[] data, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            if (data[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Encodes PAX records ("LENGTH KEY=VALUE\n", the length counting itself) with raw byte
     * values, as GNU tar and Go's archive/tar write xattrs.
     */
    static byte[] encodeRecords(Map<String, byte[]> records) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Map.Entry<String, byte[]> record : records.entrySet()) {
            byte[] key = record.getKey().getBytes(StandardCharsets.UTF_8);
            int rest = 1 + key.length + 1 + record.getValue().length + 1; // ' ' key '=' value '\n'
            int length = rest + 1;
            while (length != rest + Integer.toString(length).length()) {
                length = rest + Integer.toString(length).length();
            }
            out.writeBytes(Integer.toString(length).getBytes(StandardCharsets.US_ASCII));
            out.write(' ');
            out.writeBytes(key);
            out.write('=');
            out.writeBytes(record.getValue());
            out.write('\n');
        }
        return out.toByteArray();
    }
}
