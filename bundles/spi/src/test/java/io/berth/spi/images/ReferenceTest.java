package io.berth.spi.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ReferenceTest {

    private static final String DIGEST = "sha256:" + "ab".repeat(32);

    @Test
    void officialImagesGetDockerHubLibraryAndLatest() {
        Reference busybox = Reference.parse("busybox");
        assertEquals("docker.io/library/busybox:latest", busybox.toString());
        assertEquals("busybox", busybox.familiarName());
        assertEquals("docker.io/library/busybox", busybox.name());
    }

    @Test
    void userRepositoriesStayOnDockerHub() {
        assertEquals("docker.io/user/app:1.0", Reference.parse("user/app:1.0").toString());
        assertEquals("user/app", Reference.parse("user/app").familiarName());
        assertEquals("docker.io/library/busybox:latest", Reference.parse("index.docker.io/library/busybox").toString());
        assertEquals("docker.io/library/busybox:latest", Reference.parse("docker.io/busybox").toString());
    }

    @Test
    void registryHostsWithDotsPortsOrLocalhostAreKept() {
        Reference local = Reference.parse("localhost:5000/app:v2");
        assertEquals("localhost", local.domain().substring(0, 9));
        assertEquals("localhost:5000", local.domain());
        assertEquals("app", local.path());
        assertEquals("v2", local.tag());
        assertEquals("localhost:5000/app", local.familiarName());
        assertEquals("registry.example.com/team/app:latest", Reference.parse("registry.example.com/team/app").toString());
        assertEquals("localhost/app:latest", Reference.parse("localhost/app").toString());
        assertEquals("[::1]:5000/app:latest", Reference.parse("[::1]:5000/app").toString());
    }

    @Test
    void digestsWithAndWithoutTags() {
        Reference pinned = Reference.parse("busybox@" + DIGEST);
        assertNull(pinned.tag());
        assertEquals(DIGEST, pinned.digest());
        assertEquals("docker.io/library/busybox@" + DIGEST, pinned.toString());
        Reference both = Reference.parse("localhost:5000/app:1@" + DIGEST);
        assertEquals("1", both.tag());
        assertEquals(DIGEST, both.digest());
    }

    @Test
    void badReferencesAreRefusedWithTheReason() {
        assertTrue(message("Busybox").contains("must be lowercase"));
        assertTrue(message("busybox:").contains("invalid reference format"));
        assertTrue(message("busybox@sha256:abc").contains("invalid digest"));
        assertTrue(message("busy//box").contains("invalid repository name"));
        assertTrue(message("busybox:-bad").contains("invalid tag"));
        assertTrue(message("").contains("at least one component"));
        assertTrue(message("a/../b").contains("invalid repository name"));
    }

    private static String message(String reference) {
        return assertThrows(IllegalArgumentException.class, () -> Reference.parse(reference), reference).getMessage();
    }
}
