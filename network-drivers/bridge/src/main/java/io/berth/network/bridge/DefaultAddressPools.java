package io.berth.network.bridge;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Where networks without a {@code --subnet} get theirs: Docker's default
 * address pools, 172.17.0.0/16 to 172.31.0.0/16, then 192.168.0.0/16 in /20
 * pieces; the first one that overlaps nothing already in use.
 */
final class DefaultAddressPools {

    private static final List<Ipv4Subnet> CANDIDATES = candidates();

    private DefaultAddressPools() {
    }

    private static List<Ipv4Subnet> candidates() {
        List<Ipv4Subnet> list = new ArrayList<>();
        for (int second = 17; second <= 31; second++) {
            list.add(new Ipv4Subnet((172 << 24) | (second << 16), 16));
        }
        for (int third = 0; third < 256; third += 16) {
            list.add(new Ipv4Subnet((192 << 24) | (168 << 16) | (third << 8), 20));
        }
        return List.copyOf(list);
    }

    /** The first candidate that overlaps none of {@code inUse}. */
    static Optional<Ipv4Subnet> firstFree(Collection<Ipv4Subnet> inUse) {
        return CANDIDATES.stream().filter(candidate -> inUse.stream().noneMatch(candidate::overlaps)).findFirst();
    }
}
