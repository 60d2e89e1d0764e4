package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class ApiVersionTest {

    @Test
    void servedVersionIsStrippedAndAccepted() {
        assertEquals("/_ping", ApiVersion.strip("/v1.47/_ping"));
        assertNull(ApiVersion.problem("/v1.47/_ping"));
        assertEquals("/containers/json", ApiVersion.strip("/v1.24/containers/json"));
        assertNull(ApiVersion.problem("/v1.24/containers/json"));
        assertEquals("/", ApiVersion.strip("/v1.41"));
    }

    @Test
    void unversionedPathIsLeftAlone() {
        assertEquals("/_ping", ApiVersion.strip("/_ping"));
        assertNull(ApiVersion.problem("/_ping"));
        assertEquals("/version1.47/x", ApiVersion.strip("/version1.47/x"));
    }

    @Test
    void tooNewVersionGetsDockerdsMessage() {
        assertEquals("client version 1.99 is too new. Maximum supported API version is 1.47",
                ApiVersion.problem("/v1.99/x"));
        assertEquals("client version 1.100 is too new. Maximum supported API version is 1.47",
                ApiVersion.problem("/v1.100/x"), "versions compare as numbers, not text");
    }

    @Test
    void absurdlyLargeVersionIsTooNewNotACrash() {
        assertEquals("client version 1.99999999999 is too new. Maximum supported API version is 1.47",
                ApiVersion.problem("/v1.99999999999/_ping"));
    }

    @Test
    void tooOldVersionGetsDockerdsMessage() {
        assertEquals("client version 1.12 is too old. Minimum supported API version is 1.24, "
                + "please upgrade your client to a newer version", ApiVersion.problem("/v1.12/x"));
    }
}
