package io.berth.storage.devicemapper;

import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the thin pool lives and how layers are made, with Docker's option
 * names ({@code dm.datadev}, {@code dm.metadatadev}, {@code dm.basesize},
 * {@code dm.fs}, {@code dm.loopdatasize}, {@code dm.loopmetadatasize}) plus
 * {@code dm.loopback}, which Docker implied by leaving the devices unset.
 *
 * @param dataDevice       the pool's data block device, or {@code null}
 * @param metadataDevice   the pool's metadata block device, or {@code null}
 * @param loopback         without devices: sparse files under the driver's root on loop devices (trying it out only)
 * @param loopDataSize     the sparse data file's size in bytes
 * @param loopMetadataSize the sparse metadata file's size in bytes
 * @param baseSize         the size of each base layer's thin device (children inherit their parent's), in bytes
 * @param filesystem       {@code ext4} or {@code xfs}
 */
public record PoolOptions(Path dataDevice, Path metadataDevice, boolean loopback, long loopDataSize,
        long loopMetadataSize, long baseSize, String filesystem) {

    /** Docker's defaults: 10 GB base devices; 100 GB data and 2 GB metadata in sparse loop files. */
    public static final long DEFAULT_BASE_SIZE = 10L << 30;
    public static final long DEFAULT_LOOP_DATA_SIZE = 100L << 30;
    public static final long DEFAULT_LOOP_METADATA_SIZE = 2L << 30;

    private static final Pattern SIZE = Pattern.compile("([0-9]+)\\s*([kmgt]?)i?b?");
    /** A thin device must hold a filesystem with a journal. */
    private static final long MIN_BASE_SIZE = 16L << 20;

    /** Nothing configured: the driver stays off. */
    public static final PoolOptions NONE = new PoolOptions(null, null, false, DEFAULT_LOOP_DATA_SIZE,
            DEFAULT_LOOP_METADATA_SIZE, DEFAULT_BASE_SIZE, "ext4");

    /** Whether a pool is configured (both devices, or loop files). */
    public boolean configured() {
        return loopback || dataDevice != null || metadataDevice != null;
    }

    /**
     * Checks the options against each other.
     *
     * @throws IllegalArgumentException naming the option that is wrong
     */
    public PoolOptions {
        if ((dataDevice == null) != (metadataDevice == null)) {
            throw new IllegalArgumentException("dm.datadev and dm.metadatadev go together: only "
                    + (dataDevice == null ? "dm.metadatadev" : "dm.datadev") + " is set");
        }
        if (loopback && dataDevice != null) {
            throw new IllegalArgumentException("dm.loopback=true and dm.datadev/dm.metadatadev exclude each other");
        }
        if (!"ext4".equals(filesystem) && !"xfs".equals(filesystem)) {
            throw new IllegalArgumentException("dm.fs must be ext4 or xfs, not '" + filesystem + "'");
        }
        if (baseSize < MIN_BASE_SIZE) {
            throw new IllegalArgumentException("dm.basesize must be at least 16M, not " + baseSize + " bytes");
        }
        if (loopback && (loopDataSize < MIN_BASE_SIZE || loopMetadataSize < (2L << 20))) {
            throw new IllegalArgumentException("dm.loopdatasize must be at least 16M and dm.loopmetadatasize at least 2M");
        }
    }

    /**
     * A size as Docker writes it: {@code 10G}, {@code 512M}, {@code 100GB}, {@code 4096} (bytes);
     * binary units (K = 1024).
     *
     * @throws IllegalArgumentException naming {@code option} when it is not a size
     */
    public static long parseSize(String option, String text) {
        Matcher matcher = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!matcher.matches()) {
            throw new IllegalArgumentException(option + " is not a size like 10G or 512M: '" + text + "'");
        }
        int shift = switch (matcher.group(2)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> 0;
        };
        try {
            return Math.multiplyExact(Long.parseLong(matcher.group(1)), 1L << shift);
        } catch (ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException(option + " is too large: '" + text + "'", e);
        }
    }
}
