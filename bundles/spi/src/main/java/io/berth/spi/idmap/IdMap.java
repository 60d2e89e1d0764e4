package io.berth.spi.idmap;

import java.util.List;

/**
 * A user namespace's uid and gid mappings, as in {@code /proc/PID/uid_map}: container id {@code c} in a range
 * stands for host id {@code hostId + (c - containerId)}.
 *
 * @param uids the uid ranges, not overlapping
 * @param gids the gid ranges, not overlapping
 */
public record IdMap(List<Range> uids, List<Range> gids) {

    /** {@code size} ids from {@code containerId} in the container are {@code hostId...} on the host. */
    public record Range(long containerId, long hostId, long size) {
        public Range {
            if (containerId < 0 || hostId < 0 || size <= 0 || containerId + size > 1L << 32
                    || hostId + size > 1L << 32) {
                throw new IllegalArgumentException("invalid id range: " + containerId + " " + hostId + " " + size);
            }
        }
    }

    public IdMap {
        uids = List.copyOf(uids);
        gids = List.copyOf(gids);
        if (uids.isEmpty() || gids.isEmpty()) {
            throw new IllegalArgumentException("an id map needs at least one uid and one gid range");
        }
        requireDisjoint(uids, "uid");
        requireDisjoint(gids, "gid");
    }

    /** The host uid of container uid {@code uid}; an id no range covers cannot be mapped. */
    public int hostUid(int uid) {
        return toHost(uids, uid, "uid");
    }

    /** The host gid of container gid {@code gid}. */
    public int hostGid(int gid) {
        return toHost(gids, gid, "gid");
    }

    /** The container uid of host uid {@code uid}. */
    public int containerUid(int uid) {
        return toContainer(uids, uid, "uid");
    }

    /** The container gid of host gid {@code gid}. */
    public int containerGid(int gid) {
        return toContainer(gids, gid, "gid");
    }

    /** A short stable text for this map, usable in names: {@code u0-100000-65536_g0-100000-65536}. */
    public String key() {
        StringBuilder key = new StringBuilder();
        for (Range r : uids) {
            key.append(key.isEmpty() ? "u" : "_u").append(r.containerId).append('-').append(r.hostId).append('-')
                    .append(r.size);
        }
        for (Range r : gids) {
            key.append("_g").append(r.containerId).append('-').append(r.hostId).append('-').append(r.size);
        }
        return key.toString();
    }

    private static int toHost(List<Range> ranges, int id, String kind) {
        long unsigned = Integer.toUnsignedLong(id);
        for (Range r : ranges) {
            if (unsigned >= r.containerId && unsigned < r.containerId + r.size) {
                return (int) (r.hostId + unsigned - r.containerId);
            }
        }
        throw new IllegalArgumentException("container " + kind + " " + unsigned + " cannot be mapped to a host "
                + kind + ": the user namespace maps " + describe(ranges));
    }

    private static int toContainer(List<Range> ranges, int id, String kind) {
        long unsigned = Integer.toUnsignedLong(id);
        for (Range r : ranges) {
            if (unsigned >= r.hostId && unsigned < r.hostId + r.size) {
                return (int) (r.containerId + unsigned - r.hostId);
            }
        }
        throw new IllegalArgumentException("host " + kind + " " + unsigned + " is not mapped into the container"
                + ": the user namespace maps " + describe(ranges));
    }

    private static void requireDisjoint(List<Range> ranges, String kind) {
        for (int i = 0; i < ranges.size(); i++) {
            for (int j = i + 1; j < ranges.size(); j++) {
                Range a = ranges.get(i);
                Range b = ranges.get(j);
                boolean container = a.containerId < b.containerId + b.size && b.containerId < a.containerId + a.size;
                boolean host = a.hostId < b.hostId + b.size && b.hostId < a.hostId + a.size;
                if (container || host) {
                    throw new IllegalArgumentException("overlapping " + kind + " ranges: " + describe(List.of(a, b)));
                }
            }
        }
    }

    private static String describe(List<Range> ranges) {
        StringBuilder text = new StringBuilder();
        for (Range r : ranges) {
            if (!text.isEmpty()) {
                text.append(", ");
            }
            text.append(r.containerId).append('-').append(r.containerId + r.size - 1).append(" to ")
                    .append(r.hostId).append('-').append(r.hostId + r.size - 1);
        }
        return text.toString();
    }
}
