package io.berth.spi.kernel;

/**
 * Names under which the kernel (the launcher in {@code framework/}) publishes
 * what it owns. The kernel sits outside OSGi and cannot import this class, so
 * it repeats these strings; a test keeps both sides the same.
 */
public final class KernelProperties {

    /** Framework property: berth's version. */
    public static final String VERSION = "berth.version";

    /** Framework property: the data-root directory (persistent state). */
    public static final String DATA_ROOT = "berth.data-root";

    /** Framework property: the exec-root directory (runtime state, sockets). */
    public static final String EXEC_ROOT = "berth.exec-root";

    /** Framework property: the distribution's home directory. */
    public static final String HOME = "berth.home";

    /** Framework property: when the kernel's {@code main} started, in epoch milliseconds. */
    public static final String STARTED = "berth.kernel.started";

    /**
     * Service property on each {@link java.nio.channels.ServerSocketChannel}
     * the kernel registers: the address it listens on, e.g.
     * {@code unix:///run/berth/berth.sock}. The kernel bound the channel and
     * keeps it open across updates of the bundle that serves it; a server must
     * stop accepting from it but never close it.
     */
    public static final String LISTENER_URI = "berth.listener.uri";

    /** ConfigAdmin PID holding {@code daemon.json}, with Docker's key names. */
    public static final String DAEMON_PID = "io.berth.daemon";

    private KernelProperties() {
    }
}
