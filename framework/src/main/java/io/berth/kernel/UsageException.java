package io.berth.kernel;

/** A problem with what the operator asked for (command line or daemon.json); printed as is, no stack trace. */
public class UsageException extends Exception {

    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(message);
    }
}
