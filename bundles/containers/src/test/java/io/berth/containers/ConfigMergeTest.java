package io.berth.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.berth.spi.containers.ContainerConfig;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class ConfigMergeTest {

    static ContainerConfig config(List<String> entrypoint, List<String> cmd) {
        return new ContainerConfig(null, null, null, false, false, false, null, false, false, false, null, cmd,
                "img", null, null, entrypoint, null, null, null);
    }

    /** Image entrypoint, image cmd, request entrypoint, request cmd, then the command that runs. */
    static List<Arguments> table() {
        List<String> none = null;
        return List.of(
                Arguments.of(none, List.of("sh"), none, none, List.of("sh")),
                Arguments.of(none, List.of("sh"), none, List.of(), List.of("sh")),
                Arguments.of(none, List.of("sh"), none, List.of("echo", "hi"), List.of("echo", "hi")),
                Arguments.of(List.of("/entry"), List.of("--default"), none, none, List.of("/entry", "--default")),
                Arguments.of(List.of("/entry"), List.of("--default"), none, List.of("x"), List.of("/entry", "x")),
                // a requested entrypoint replaces the image's and drops the image's cmd
                Arguments.of(List.of("/entry"), List.of("--default"), List.of("/other"), none, List.of("/other")),
                Arguments.of(none, List.of("sh"), List.of("/other"), List.of("a"), List.of("/other", "a")),
                // an empty entrypoint clears the image's
                Arguments.of(List.of("/entry"), List.of("--default"), List.of(""), List.of("ls"), List.of("ls")),
                Arguments.of(List.of("/entry"), none, List.of(), List.of("ls", "-l"), List.of("ls", "-l")));
    }

    @ParameterizedTest
    @MethodSource("table")
    void mergesCommandsAsDocker(List<String> imageEntrypoint, List<String> imageCmd, List<String> entrypoint,
                                List<String> cmd, List<String> runs) {
        ConfigMerge.Merged merged = ConfigMerge.merge(config(entrypoint, cmd), config(imageEntrypoint, imageCmd));
        assertEquals(runs, merged.command());
        assertEquals(runs.get(0), merged.path());
        assertEquals(runs.subList(1, runs.size()), merged.args());
    }

    @Test
    void nothingToRunIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConfigMerge.merge(config(null, null), config(null, null)));
        assertEquals("No command specified", e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ConfigMerge.merge(config(List.of(""), null), config(List.of("/entry"), List.of("x"))));
    }

    @Test
    void environmentMergesByNameAndTheRequestWins() {
        ContainerConfig image = new ContainerConfig(null, null, "daemon", false, false, false,
                Map.of("80/tcp", Map.of()), false, false, false, List.of("PATH=/bin", "A=image", "B=image"),
                List.of("sh"), null, Map.of("/data", Map.of()), "/srv", null, Map.of("l", "image", "m", "image"),
                "SIGQUIT", null);
        ContainerConfig request = new ContainerConfig(null, null, null, false, false, false,
                Map.of("443/tcp", Map.of()), false, false, false, List.of("A=mine", "C=mine"), null, "img", null,
                null, null, Map.of("l", "mine"), null, null);
        ContainerConfig merged = ConfigMerge.merge(request, image).config();
        assertEquals(List.of("A=mine", "C=mine", "PATH=/bin", "B=image"), merged.env());
        assertEquals("daemon", merged.user());
        assertEquals("/srv", merged.workingDir());
        assertEquals("SIGQUIT", merged.stopSignal());
        assertEquals(Map.of("l", "mine", "m", "image"), merged.labels());
        assertEquals(Map.of("80/tcp", Map.of(), "443/tcp", Map.of()), merged.exposedPorts());
        assertEquals(Map.of("/data", Map.of()), merged.volumes());
        assertEquals("img", merged.image());
    }

    @Test
    void readsTheConfigObjectOfAnImageConfig() throws Exception {
        String json = "{\"architecture\":\"amd64\",\"config\":{\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"sh\"],"
                + "\"WorkingDir\":\"/w\",\"User\":\"1:1\",\"StopSignal\":\"SIGINT\",\"OnBuild\":null}}";
        ContainerConfig config = ConfigMerge.imageConfig(json.getBytes(StandardCharsets.UTF_8));
        assertEquals(List.of("PATH=/bin"), config.env());
        assertEquals(List.of("sh"), config.cmd());
        assertEquals("/w", config.workingDir());
        assertEquals("1:1", config.user());
        assertEquals("SIGINT", config.stopSignal());
        assertNull(ConfigMerge.imageConfig("{}".getBytes(StandardCharsets.UTF_8)).cmd());
    }
}
