package io.berth.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** docker cp's argument rules and the tars it makes of host files. */
class DockerCpTest {

    @TempDir
    Path dir;

    @Test
    void anArgumentIsInAContainerWhenItHasAColonAndIsNoLocalPath() {
        assertEquals(new DockerCp.Location("web", "/etc/hosts"), DockerCp.Location.parse("web:/etc/hosts"));
        assertEquals(new DockerCp.Location("web", "."), DockerCp.Location.parse("web:"), "the working directory");
        assertEquals(new DockerCp.Location(null, "/tmp/a:b"), DockerCp.Location.parse("/tmp/a:b"), "absolute: local");
        assertEquals(new DockerCp.Location(null, "./a:b"), DockerCp.Location.parse("./a:b"), "relative: local");
        assertEquals(new DockerCp.Location(null, "-"), DockerCp.Location.parse("-"));
        assertEquals(new DockerCp.Location(null, ":x"), DockerCp.Location.parse(":x"), "no container name");
        assertThrows(IllegalArgumentException.class, () -> DockerCp.Location.parse(""));
    }

    @Test
    void twoContainersOrNoneAreRefusedBeforeAnythingIsTouched() {
        DockerCp cp = new DockerCp(null); // no service: nothing may be asked of it
        IllegalArgumentException both = assertThrows(IllegalArgumentException.class,
                () -> cp.copy("a:/x", "b:/y", false, null, null));
        assertEquals("copying between containers is not supported", both.getMessage());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> cp.copy("/x", "/y", false, null, null));
        assertEquals("must specify at least one container source", none.getMessage());
    }

    @Test
    void aHostTreeBecomesATarUnderTheNameItGetsThere() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src/sub"));
        Files.writeString(src.resolve("b"), "two");
        Files.writeString(dir.resolve("src/a"), "one");
        Files.createSymbolicLink(dir.resolve("src/link"), Path.of("a"));

        assertEquals(List.of("renamed/", "renamed/a", "renamed/link->a", "renamed/sub/", "renamed/sub/b"),
                entries(dir.resolve("src"), "renamed"));
        assertEquals(List.of("a", "link->a", "sub/", "sub/b"), entries(dir.resolve("src"), "."), "SRC/.: content");
        assertEquals(List.of("file"), entries(dir.resolve("src/a"), "file"));
    }

    private static List<String> entries(Path source, String name) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DockerCp.writeTar(source, name, out);
        List<String> names = new ArrayList<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new ByteArrayInputStream(out.toByteArray()))) {
            for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                names.add(e.getName() + (e.isSymbolicLink() ? "->" + e.getLinkName() : ""));
            }
        }
        names.sort(null);
        return names;
    }
}
