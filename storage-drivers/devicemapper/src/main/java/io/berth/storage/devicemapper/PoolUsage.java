package io.berth.storage.devicemapper;

import java.io.IOException;

/**
 * A thin pool's status line, as {@code dmsetup status} prints it:
 * {@code 0 LENGTH thin-pool TRANSACTION USED_META/TOTAL_META USED_DATA/TOTAL_DATA HELD_ROOT MODE ...}
 * (metadata in 4 KiB blocks, data in the pool's blocks).
 *
 * @param mode {@code rw}, {@code ro}, {@code out_of_data_space}, or {@code Fail}
 */
public record PoolUsage(long usedMetadataBlocks, long totalMetadataBlocks, long usedDataBlocks, long totalDataBlocks,
        String mode) {

    static PoolUsage parse(String status) throws IOException {
        String[] fields = status.trim().split("\\s+");
        if (fields.length >= 4 && "Fail".equals(fields[3])) {
            return new PoolUsage(0, 0, 0, 0, "Fail");
        }
        if (fields.length < 8 || !"thin-pool".equals(fields[2])) {
            throw new IOException("unexpected thin-pool status: " + status);
        }
        try {
            String[] metadata = fields[4].split("/");
            String[] data = fields[5].split("/");
            return new PoolUsage(Long.parseLong(metadata[0]), Long.parseLong(metadata[1]), Long.parseLong(data[0]),
                    Long.parseLong(data[1]), fields[7]);
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
            throw new IOException("unexpected thin-pool status: " + status, e);
        }
    }
}
