package io.berth.registry.server;

/** The OCI distribution spec's error codes, with the status each is answered with. */
enum ErrorCode {
    BLOB_UNKNOWN(404),
    BLOB_UPLOAD_INVALID(400),
    BLOB_UPLOAD_UNKNOWN(404),
    DIGEST_INVALID(400),
    MANIFEST_BLOB_UNKNOWN(400),
    MANIFEST_INVALID(400),
    MANIFEST_UNKNOWN(404),
    NAME_INVALID(400),
    NAME_UNKNOWN(404),
    SIZE_INVALID(400),
    UNSUPPORTED(405),
    UNAUTHORIZED(401),
    /** Not in the spec's table; distribution/distribution answers it for a bad {@code n}. */
    PAGINATION_NUMBER_INVALID(400);

    final int status;

    ErrorCode(int status) {
        this.status = status;
    }
}
