package io.berth.spi.idmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class IdMapTest {

    private final IdMap map = new IdMap(
            List.of(new IdMap.Range(0, 100000, 1000), new IdMap.Range(1000, 300000, 64536)),
            List.of(new IdMap.Range(0, 200000, 65536)));

    @Test
    void idsGoToTheirRangeAndBack() {
        assertEquals(100000, map.hostUid(0));
        assertEquals(100999, map.hostUid(999));
        assertEquals(300000, map.hostUid(1000));
        assertEquals(364535, map.hostUid(65535));
        assertEquals(200100, map.hostGid(100));
        assertEquals(1000, map.containerUid(300000));
        assertEquals(100, map.containerGid(200100));
    }

    @Test
    void idsOutsideEveryRangeAreRefusedWithTheRanges() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> map.hostUid(70000));
        assertTrue(e.getMessage().contains("container uid 70000 cannot be mapped"), e.getMessage());
        assertTrue(e.getMessage().contains("0-999 to 100000-100999"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> map.containerGid(0));
        assertThrows(IllegalArgumentException.class, () -> map.hostUid(-1)); // 4294967295, unsigned
    }

    @Test
    void overlappingOrEmptyRangesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new IdMap(
                List.of(new IdMap.Range(0, 100000, 10), new IdMap.Range(5, 200000, 10)),
                List.of(new IdMap.Range(0, 100000, 10))));
        assertThrows(IllegalArgumentException.class, () -> new IdMap(
                List.of(new IdMap.Range(0, 100000, 10), new IdMap.Range(10, 100005, 10)),
                List.of(new IdMap.Range(0, 100000, 10))));
        assertThrows(IllegalArgumentException.class, () -> new IdMap(List.of(), List.of(new IdMap.Range(0, 1, 1))));
        assertThrows(IllegalArgumentException.class, () -> new IdMap.Range(0, 1, 0));
    }

    @Test
    void theKeyNamesEveryRange() {
        assertEquals("u0-100000-1000_u1000-300000-64536_g0-200000-65536", map.key());
    }
}
