package io.berth.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FrameworkPropertiesTest {

    @TempDir
    Path dir;

    @Test
    void substitutesFactsAndSystemPropertiesAndKeepsUnknownVariables() throws Exception {
        Path file = Files.writeString(dir.resolve("config.properties"), """
                org.osgi.framework.storage=${berth.home}/cache
                felix.fileinstall.dir=${berth.home}/deploy, ${berth.data-root}/deploy
                java.here=${java.home}
                unknown=${no.such.variable}/x
                plain=value
                """);

        Map<String, String> properties = FrameworkProperties.load(file,
                Map.of("berth.home", "/opt/berth", "berth.data-root", "/var/lib/berth"));

        assertEquals("/opt/berth/cache", properties.get("org.osgi.framework.storage"));
        assertEquals("/opt/berth/deploy, /var/lib/berth/deploy", properties.get("felix.fileinstall.dir"));
        assertEquals(System.getProperty("java.home"), properties.get("java.here"));
        assertEquals("${no.such.variable}/x", properties.get("unknown"));
        assertEquals("value", properties.get("plain"));
        assertEquals(5, properties.size());
    }

    @Test
    void factValuesAreInsertedLiterally() {
        assertEquals("C:\\$1 berth", FrameworkProperties.substitute("${home} berth", Map.of("home", "C:\\$1")));
    }

    @Test
    void missingFileGivesNoProperties() throws Exception {
        assertEquals(Map.of(), FrameworkProperties.load(dir.resolve("absent.properties"), Map.of()));
    }
}
