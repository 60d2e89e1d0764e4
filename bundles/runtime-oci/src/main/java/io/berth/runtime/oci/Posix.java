package io.berth.runtime.oci;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;

/**
 * The few C calls the JDK lacks, through jnr-ffi: SOCK_SEQPACKET unix sockets (conmon's attach socket) and
 * pseudo-terminals (for exec with a TTY). Every method returns or takes a plain file descriptor; failures are
 * {@link IOException}s with the C library's error text.
 */
final class Posix {

    /** The C calls used, as jnr-ffi binds them. */
    public interface LibC {
        int socket(int domain, int type, int protocol);

        int connect(int fd, @In byte[] address, int length);

        long recv(int fd, @Out byte[] buffer, long length, int flags);

        long send(int fd, @In byte[] buffer, long length, int flags);

        int posix_openpt(int flags);

        int grantpt(int fd);

        int unlockpt(int fd);

        String ptsname(int fd);

        int ioctl(int fd, long request, @In short[] windowSize);

        int tcgetattr(int fd, @Out byte[] termios);

        void cfmakeraw(byte[] termios);

        int tcsetattr(int fd, int optionalActions, @In byte[] termios);

        long read(int fd, @Out byte[] buffer, long length);

        long write(int fd, @In byte[] buffer, long length);

        int shutdown(int fd, int how);

        int close(int fd);

        String strerror(int errno);
    }

    static final int SHUT_WR = 1;
    static final int SHUT_RDWR = 2;
    private static final int AF_UNIX = 1;
    private static final int SOCK_SEQPACKET = 5;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int O_RDWR_NOCTTY = 0x2 | 0x100;
    private static final long TIOCSWINSZ = 0x5414;
    private static final int TCSANOW = 0;
    /** At least sizeof(struct termios) (60 bytes with glibc on Linux), which the calls only pass around. */
    private static final int TERMIOS_SIZE = 128;
    private static final int EINTR = 4;
    /** sun_path's size in struct sockaddr_un. */
    static final int MAX_PATH = 108;

    private static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
    private static final Runtime RUNTIME = Runtime.getRuntime(LIBC);

    private Posix() {
    }

    /** Connects to the SOCK_SEQPACKET socket at {@code path}. */
    static int connectSeqpacket(Path path) throws IOException {
        int fd = check(LIBC.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), "socket");
        byte[] address = address(path);
        if (LIBC.connect(fd, address, address.length) < 0) {
            IOException failure = failure("cannot connect to " + path);
            LIBC.close(fd);
            throw failure;
        }
        return fd;
    }

    /** A new pseudo-terminal: its master's descriptor and its slave's path. */
    record Pty(int master, Path slave) {
    }

    static Pty openPty() throws IOException {
        int master = check(LIBC.posix_openpt(O_RDWR_NOCTTY), "posix_openpt");
        if (LIBC.grantpt(master) < 0 || LIBC.unlockpt(master) < 0) {
            IOException failure = failure("cannot unlock a pseudo-terminal");
            LIBC.close(master);
            throw failure;
        }
        return new Pty(master, Path.of(LIBC.ptsname(master)));
    }

    /**
     * Puts a pseudo-terminal into raw mode (cfmakeraw): no echo, no line editing, no special characters, bytes
     * passed through as they are. Through the master it applies to the slave, whose line discipline it is.
     */
    static void makeRaw(int fd) throws IOException {
        byte[] termios = new byte[TERMIOS_SIZE];
        check(LIBC.tcgetattr(fd, termios), "tcgetattr");
        LIBC.cfmakeraw(termios);
        check(LIBC.tcsetattr(fd, TCSANOW, termios), "tcsetattr");
    }

    /** Sets a terminal's window size (TIOCSWINSZ); its foreground process group gets SIGWINCH. */
    static void resize(int fd, int rows, int columns) throws IOException {
        if (LIBC.ioctl(fd, TIOCSWINSZ, new short[] {(short) rows, (short) columns, 0, 0}) < 0) {
            throw failure("cannot resize the terminal");
        }
    }

    /** One packet or chunk, at most {@code buffer.length} bytes; 0 at the end of the stream. */
    static int receive(int fd, byte[] buffer) throws IOException {
        long n;
        do {
            n = LIBC.recv(fd, buffer, buffer.length, 0);
        } while (n < 0 && LastError.getLastError(RUNTIME) == EINTR);
        if (n < 0) {
            throw failure("cannot receive");
        }
        return (int) n;
    }

    static void send(int fd, byte[] data, int length) throws IOException {
        byte[] chunk = length == data.length ? data : Arrays.copyOf(data, length);
        long n;
        do {
            n = LIBC.send(fd, chunk, chunk.length, 0);
        } while (n < 0 && LastError.getLastError(RUNTIME) == EINTR);
        if (n < 0) {
            throw failure("cannot send");
        }
    }

    /** read(2) on a terminal or pipe; 0 at its end (EIO from a terminal whose other side closed counts as end). */
    static int read(int fd, byte[] buffer) throws IOException {
        long n;
        do {
            n = LIBC.read(fd, buffer, buffer.length);
        } while (n < 0 && LastError.getLastError(RUNTIME) == EINTR);
        if (n < 0) {
            if (LastError.getLastError(RUNTIME) == 5) { // EIO: the terminal's last user has gone
                return 0;
            }
            throw failure("cannot read");
        }
        return (int) n;
    }

    static void write(int fd, byte[] data, int offset, int length) throws IOException {
        byte[] chunk = Arrays.copyOfRange(data, offset, offset + length);
        int done = 0;
        while (done < chunk.length) {
            byte[] rest = done == 0 ? chunk : Arrays.copyOfRange(chunk, done, chunk.length);
            long n = LIBC.write(fd, rest, rest.length);
            if (n < 0) {
                if (LastError.getLastError(RUNTIME) == EINTR) {
                    continue;
                }
                throw failure("cannot write");
            }
            done += (int) n;
        }
    }

    static void shutdown(int fd, int how) {
        LIBC.shutdown(fd, how);
    }

    static void close(int fd) {
        LIBC.close(fd);
    }

    private static byte[] address(Path path) throws IOException {
        byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
        if (name.length >= MAX_PATH) {
            throw new IOException("socket path " + path + " is longer than the " + (MAX_PATH - 1)
                    + " bytes a unix socket address holds");
        }
        byte[] address = new byte[2 + name.length + 1];
        address[0] = AF_UNIX; // sa_family_t, little-endian
        System.arraycopy(name, 0, address, 2, name.length);
        return address;
    }

    private static int check(int result, String call) throws IOException {
        if (result < 0) {
            throw failure(call + " failed");
        }
        return result;
    }

    private static IOException failure(String what) {
        int errno = LastError.getLastError(RUNTIME);
        return new IOException(what + ": " + LIBC.strerror(errno));
    }
}
