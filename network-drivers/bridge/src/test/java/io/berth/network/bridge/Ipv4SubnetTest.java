package io.berth.network.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Subnet arithmetic and the default pools, without the kernel. */
class Ipv4SubnetTest {

    @Test
    void parsesAndRefusesWithMessagesThatSayWhatIsWrong() {
        Ipv4Subnet subnet = Ipv4Subnet.parse("172.20.0.0/16");
        assertEquals("172.20.0.0/16", subnet.toString());
        assertEquals(65536, subnet.size());
        assertEquals("172.20.0.1", Ipv4Subnet.format(subnet.address(1)));
        assertEquals("172.20.255.255", Ipv4Subnet.format(subnet.broadcast()));
        assertTrue(message("172.20.0.1/16").contains("it should be 172.20.0.0/16"));
        assertTrue(message("172.20.0.0").contains("CIDR"));
        assertTrue(message("172.20.0.0/x").contains("prefix length"));
        assertTrue(message("172.256.0.0/16").contains("not an IPv4 address"));
        assertTrue(message("fd00::/64").contains("not an IPv4 address"));
    }

    @Test
    void overlapIsSharedAddressesWhicheverIsLarger() {
        Ipv4Subnet big = Ipv4Subnet.parse("172.20.0.0/16");
        assertTrue(big.overlaps(Ipv4Subnet.parse("172.20.128.0/17")));
        assertTrue(Ipv4Subnet.parse("172.20.128.0/17").overlaps(big));
        assertTrue(Ipv4Subnet.parse("0.0.0.0/0").overlaps(big));
        assertFalse(big.overlaps(Ipv4Subnet.parse("172.21.0.0/16")));
        assertTrue(big.isHostAddress(Ipv4Subnet.parseAddress("172.20.3.4", "a")));
        assertFalse(big.isHostAddress(big.base()));
        assertFalse(big.isHostAddress(big.broadcast()));
        assertFalse(big.contains(Ipv4Subnet.parseAddress("172.21.0.1", "a")));
    }

    @Test
    void defaultPoolsGoFrom172_17ThroughTheRestAnd192_168SlicesSkippingWhatIsUsed() {
        assertEquals(Optional.of(Ipv4Subnet.parse("172.17.0.0/16")), DefaultAddressPools.firstFree(List.of()));
        assertEquals(Optional.of(Ipv4Subnet.parse("172.19.0.0/16")), DefaultAddressPools.firstFree(
                List.of(Ipv4Subnet.parse("172.17.0.0/16"), Ipv4Subnet.parse("172.18.200.0/24"))));
        assertEquals(Optional.of(Ipv4Subnet.parse("192.168.16.0/20")), DefaultAddressPools.firstFree(
                List.of(Ipv4Subnet.parse("172.16.0.0/12"), Ipv4Subnet.parse("192.168.1.0/24"))));
        List<Ipv4Subnet> everything = new ArrayList<>(List.of(Ipv4Subnet.parse("172.16.0.0/12"), Ipv4Subnet.parse("192.168.0.0/16")));
        assertEquals(Optional.empty(), DefaultAddressPools.firstFree(everything));
    }

    @Test
    void macsAreDockersTwoBytesAndTheAddress() {
        assertEquals("02:42:ac:11:00:02", BridgeNetworkDriver.macFor(Ipv4Subnet.parseAddress("172.17.0.2", "a")));
        assertEquals("02:42:c0:a8:10:ff", BridgeNetworkDriver.macFor(Ipv4Subnet.parseAddress("192.168.16.255", "a")));
    }

    private static String message(String cidr) {
        return assertThrows(IllegalArgumentException.class, () -> Ipv4Subnet.parse(cidr)).getMessage();
    }
}
