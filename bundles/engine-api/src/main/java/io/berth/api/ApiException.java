package io.berth.api;

/** An answer other than success, with Docker's status code and message. */
final class ApiException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    final int status;

    ApiException(int status, String message) {
        super(message);
        this.status = status;
    }
}
