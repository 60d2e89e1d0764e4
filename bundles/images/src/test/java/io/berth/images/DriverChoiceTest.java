package io.berth.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DriverChoiceTest {

    private static final Set<String> ALL = Set.of("vfs", "btrfs", "overlay2");

    @Test
    void theConfiguredDriverWins() {
        assertEquals("vfs", DriverChoice.choose(Optional.of("vfs"), ALL, Set.of("overlay2")));
    }

    @Test
    void aConfiguredDriverThatIsNotActiveIsAnError() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> DriverChoice.choose(Optional.of("btrfs"), Set.of("vfs"), Set.of()));
        assertTrue(e.getMessage().contains("btrfs is configured but not active"), e.getMessage());
    }

    @Test
    void theDriverThatHoldsLayersComesNext() {
        assertEquals("vfs", DriverChoice.choose(Optional.empty(), ALL, Set.of("vfs")));
    }

    @Test
    void layersInSeveralDriversAndNoConfigurationRefuseToGuess() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> DriverChoice.choose(Optional.empty(), ALL, Set.of("vfs", "overlay2")));
        assertTrue(e.getMessage().contains("several storage drivers [overlay2, vfs]"), e.getMessage());
    }

    @Test
    void otherwiseOverlayThenBtrfsThenVfs() {
        assertEquals("overlay2", DriverChoice.choose(Optional.empty(), ALL, Set.of()));
        assertEquals("btrfs", DriverChoice.choose(Optional.empty(), Set.of("vfs", "btrfs"), Set.of()));
        assertEquals("vfs", DriverChoice.choose(Optional.empty(), Set.of("vfs"), Set.of()));
        assertThrows(IllegalStateException.class, () -> DriverChoice.choose(Optional.empty(), Set.of(), Set.of()));
    }
}
