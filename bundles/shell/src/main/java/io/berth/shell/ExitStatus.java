package io.berth.shell;

/**
 * Thrown by a command that ran but wants a non-zero exit status without an error message, as {@code docker run}
 * exits with its container's code; the shell session turns it into that status.
 */
public final class ExitStatus extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int code;

    public ExitStatus(int code) {
        super(null, null, false, false);
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** What the berthd --shell console prints for it. */
    @Override
    public String toString() {
        return "exit status " + code;
    }
}
