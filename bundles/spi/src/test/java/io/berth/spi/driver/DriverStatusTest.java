package io.berth.spi.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DriverStatusTest {

    @Test
    void nonActiveStatusNeedsAReason() {
        for (DriverStatus.State state : new DriverStatus.State[] {
                DriverStatus.State.UNCONFIGURED, DriverStatus.State.UNSUPPORTED, DriverStatus.State.FAILED}) {
            assertThrows(IllegalArgumentException.class, () -> new DriverStatus(state, null, Map.of()), state.name());
            assertThrows(IllegalArgumentException.class, () -> new DriverStatus(state, "  ", Map.of()), state.name());
        }
        assertThrows(IllegalArgumentException.class, () -> DriverStatus.failed(""));
        assertThrows(NullPointerException.class, () -> new DriverStatus(null, "why", Map.of()));
    }

    @Test
    void factoriesSetStateAndReason() {
        DriverStatus unsupported = DriverStatus.unsupported("no btrfs filesystem at data-root");
        assertEquals(DriverStatus.State.UNSUPPORTED, unsupported.state());
        assertEquals("no btrfs filesystem at data-root", unsupported.reason());
        assertFalse(unsupported.isActive());

        DriverStatus active = DriverStatus.active(null);
        assertTrue(active.isActive());
        assertEquals("", active.reason());
        assertEquals(Map.of(), active.details());
    }

    @Test
    void detailsAreCopiedAndImmutable() {
        Map<String, String> details = new HashMap<>(Map.of("Backing Filesystem", "ext4"));
        DriverStatus status = DriverStatus.active(details);

        details.put("Backing Filesystem", "xfs");
        details.put("Extra", "x");

        assertEquals(Map.of("Backing Filesystem", "ext4"), status.details());
        assertThrows(UnsupportedOperationException.class, () -> status.details().put("Extra", "x"));
    }
}
