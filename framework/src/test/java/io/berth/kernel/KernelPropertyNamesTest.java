package io.berth.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.spi.kernel.KernelProperties;
import org.junit.jupiter.api.Test;

/** The kernel cannot import the SPI, so it repeats these names; this keeps the two the same. */
class KernelPropertyNamesTest {

    @Test
    void theKernelPublishesWhatTheSpiNames() {
        assertEquals(KernelProperties.VERSION, Daemon.PROP_VERSION);
        assertEquals(KernelProperties.DATA_ROOT, Daemon.PROP_DATA_ROOT);
        assertEquals(KernelProperties.EXEC_ROOT, Daemon.PROP_EXEC_ROOT);
        assertEquals(KernelProperties.HOME, Daemon.PROP_HOME);
        assertEquals(KernelProperties.STARTED, Daemon.PROP_STARTED);
        assertEquals(KernelProperties.LISTENER_URI, Daemon.PROP_LISTENER_URI);
        assertEquals(KernelProperties.DAEMON_PID, Daemon.DAEMON_PID);
    }
}
