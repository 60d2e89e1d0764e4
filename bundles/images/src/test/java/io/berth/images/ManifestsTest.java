package io.berth.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.images.Manifests.ManifestException;
import io.berth.images.Manifests.Platform;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ManifestsTest {

    private static final String A = "sha256:" + "a".repeat(64);
    private static final String B = "sha256:" + "b".repeat(64);
    private static final String C = "sha256:" + "c".repeat(64);

    private static byte[] json(String text) {
        return text.replace('\'', '"').getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void dockerSchema2ManifestGivesConfigAndLayersInOrder() throws Exception {
        var manifest = Manifests.manifest(json("""
                {'schemaVersion': 2, 'mediaType': 'application/vnd.docker.distribution.manifest.v2+json',
                 'config': {'mediaType': 'application/vnd.docker.container.image.v1+json', 'digest': '%s', 'size': 10},
                 'layers': [
                   {'mediaType': 'application/vnd.docker.image.rootfs.diff.tar.gzip', 'digest': '%s', 'size': 20},
                   {'mediaType': 'application/vnd.docker.image.rootfs.diff.tar.gzip', 'digest': '%s', 'size': 30}]}
                """.formatted(A, B, C)));
        assertEquals(A, manifest.config().digest());
        assertEquals(2, manifest.layers().size());
        assertEquals(B, manifest.layers().get(0).digest());
        assertEquals(30, manifest.layers().get(1).size());
    }

    @Test
    void ociManifestWithoutMediaTypeIsRecognisedByItsFields() throws Exception {
        byte[] document = json("""
                {'schemaVersion': 2,
                 'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': '%s', 'size': 1},
                 'layers': [{'mediaType': 'application/vnd.oci.image.layer.v1.tar+zstd', 'digest': '%s', 'size': 2}]}
                """.formatted(A, B));
        assertEquals(Manifests.OCI_MANIFEST, Manifests.mediaTypeOf(document));
        assertEquals(1, Manifests.manifest(document).layers().size());
    }

    @Test
    void anIndexSelectsThePlatformAndNamesWhatItHasWhenItCannot() throws Exception {
        var index = Manifests.index(json("""
                {'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json', 'manifests': [
                  {'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': '%s', 'size': 1,
                   'platform': {'os': 'linux', 'architecture': 'arm64', 'variant': 'v8'}},
                  {'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': '%s', 'size': 1,
                   'platform': {'os': 'linux', 'architecture': 'amd64'}}]}
                """.formatted(A, B)));
        assertEquals(B, index.select(Platform.parse("linux/amd64")).digest());
        assertEquals(A, index.select(Platform.parse("linux/arm64")).digest());
        ManifestException e = assertThrows(ManifestException.class, () -> index.select(Platform.parse("linux/s390x")));
        assertTrue(e.getMessage().contains("linux/arm64/v8") && e.getMessage().contains("linux/amd64"), e.getMessage());
    }

    @Test
    void malformedManifestsAreRefusedWithTheReason() {
        assertTrue(reason("not json").contains("manifest invalid"));
        assertTrue(reason("[1,2]").contains("not a JSON object"));
        assertTrue(reason("{'schemaVersion': 1, 'mediaType': 'application/vnd.docker.distribution.manifest.v1+json'}")
                .contains("schema 1 is not supported"));
        assertTrue(reason("""
                {'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
                 'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': 'sha256:../../x', 'size': 1},
                 'layers': []}""").contains("config has digest sha256:../../x"));
        assertTrue(reason("""
                {'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
                 'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': '%s', 'size': 1},
                 'layers': [{'mediaType': 'text/plain', 'digest': '%s', 'size': 1}]}""".formatted(A, B))
                .contains("layers[0] has unsupported media type text/plain"));
        assertTrue(reason("""
                {'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
                 'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': '%s', 'size': -5},
                 'layers': []}""".formatted(A)).contains("no valid size"));
        assertThrows(IllegalArgumentException.class, () -> Platform.parse("linux"));
    }

    private static String reason(String document) {
        return assertThrows(ManifestException.class, () -> Manifests.manifest(json(document))).getMessage();
    }
}
