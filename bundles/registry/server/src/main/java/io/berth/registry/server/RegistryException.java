package io.berth.registry.server;

/** A request the registry refuses, answered with an OCI error body. */
class RegistryException extends Exception {
    private static final long serialVersionUID = 1L;

    final ErrorCode code;
    final int status;
    final String detail;

    RegistryException(ErrorCode code, String message) {
        this(code, code.status, message, null);
    }

    RegistryException(ErrorCode code, String message, String detail) {
        this(code, code.status, message, detail);
    }

    RegistryException(ErrorCode code, int status, String message, String detail) {
        super(message);
        this.code = code;
        this.status = status;
        this.detail = detail;
    }
}
