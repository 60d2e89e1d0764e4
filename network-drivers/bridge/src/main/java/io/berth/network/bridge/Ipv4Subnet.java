package io.berth.network.bridge;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An IPv4 subnet such as {@code 172.17.0.0/16}, and the address arithmetic
 * the bridge driver needs (membership, overlap, the n-th address). Addresses
 * are unsigned 32-bit values held in an {@code int}.
 *
 * @param base   the network address (host bits zero)
 * @param prefix the prefix length, 0 to 32
 */
record Ipv4Subnet(int base, int prefix) {

    private static final Pattern ADDRESS = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");

    Ipv4Subnet {
        if (prefix < 0 || prefix > 32) {
            throw new IllegalArgumentException("invalid prefix length " + prefix);
        }
        if ((base & ~mask(prefix)) != 0) {
            throw new IllegalArgumentException("invalid subnet " + format(base) + "/" + prefix + ": host bits are set, it should be "
                    + format(base & mask(prefix)) + "/" + prefix);
        }
    }

    /**
     * Parses {@code a.b.c.d/n}; the address must be the network's own
     * (host bits zero), as {@code --subnet} requires.
     */
    static Ipv4Subnet parse(String cidr) {
        int slash = cidr == null ? -1 : cidr.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("invalid subnet '" + cidr + "': expected an IPv4 CIDR such as 172.20.0.0/16");
        }
        int address = parseAddress(cidr.substring(0, slash), "subnet '" + cidr + "'");
        int prefix;
        try {
            prefix = Integer.parseInt(cidr.substring(slash + 1));
        } catch (NumberFormatException e) {
            prefix = -1;
        }
        if (prefix < 0 || prefix > 32) {
            throw new IllegalArgumentException("invalid subnet '" + cidr + "': the prefix length must be 0 to 32");
        }
        return new Ipv4Subnet(address, prefix);
    }

    /** The subnet holding {@code address}/{@code prefix} (host bits dropped), e.g. for a route or an interface address. */
    static Ipv4Subnet containing(int address, int prefix) {
        return new Ipv4Subnet(address & mask(prefix), prefix);
    }

    /** Parses a dotted IPv4 address; {@code what} names it in the error. */
    static int parseAddress(String text, String what) {
        Matcher m = text == null ? null : ADDRESS.matcher(text);
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException("invalid " + what + ": '" + text + "' is not an IPv4 address");
        }
        int address = 0;
        for (int i = 1; i <= 4; i++) {
            int octet = Integer.parseInt(m.group(i));
            if (octet > 255) {
                throw new IllegalArgumentException("invalid " + what + ": '" + text + "' is not an IPv4 address");
            }
            address = (address << 8) | octet;
        }
        return address;
    }

    static String format(int address) {
        return (address >>> 24) + "." + ((address >>> 16) & 0xff) + "." + ((address >>> 8) & 0xff) + "." + (address & 0xff);
    }

    private static int mask(int prefix) {
        return prefix == 0 ? 0 : -1 << (32 - prefix);
    }

    boolean contains(int address) {
        return (address & mask(prefix)) == base;
    }

    boolean overlaps(Ipv4Subnet other) {
        int shorter = Math.min(prefix, other.prefix);
        return (base & mask(shorter)) == (other.base & mask(shorter));
    }

    /** How many addresses the subnet spans, network and broadcast addresses included. */
    long size() {
        return 1L << (32 - prefix);
    }

    /** The n-th address of the subnet (0 is the network address). */
    int address(long n) {
        return base + (int) n;
    }

    /** The offset of {@code address} in the subnet. */
    long offset(int address) {
        return Integer.toUnsignedLong(address - base);
    }

    int broadcast() {
        return base | ~mask(prefix);
    }

    /** Whether {@code address} can be given to a host: inside, and neither the network nor the broadcast address. */
    boolean isHostAddress(int address) {
        return contains(address) && address != base && address != broadcast();
    }

    @Override
    public String toString() {
        return format(base) + "/" + prefix;
    }
}
