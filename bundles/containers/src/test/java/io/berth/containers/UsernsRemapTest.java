package io.berth.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.spi.idmap.IdMap;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** userns-remap against a user database in test files ({@code default}, which creates a host user, is in ContainerShellIT). */
class UsernsRemapTest {

    @TempDir
    Path dir;

    private UsernsRemap remap;

    @BeforeEach
    void database() throws Exception {
        UsernsRemap.UserDatabase files = new UsernsRemap.UserDatabase(dir.resolve("passwd"), dir.resolve("group"),
                dir.resolve("subuid"), dir.resolve("subgid"));
        Files.writeString(files.passwd(), "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n"
                + "bob:x:1001:1001::/home/bob:/bin/sh\n");
        Files.writeString(files.group(), "root:x:0:\nalice:x:1000:\nstaff:x:50:\n");
        Files.writeString(files.subuid(), "# ranges\nalice:100000:1000\nbob:300000:65536\n1000:200000:64536\n");
        Files.writeString(files.subgid(), "alice:100000:65536\nstaff:500000:65536\n");
        remap = new UsernsRemap(files);
    }

    @Test
    void aUsersRangesFollowEachOtherInFileOrderAndItsIdCountsToo() throws Exception {
        IdMap map = remap.resolve("alice");
        assertEquals(List.of(new IdMap.Range(0, 100000, 1000), new IdMap.Range(1000, 200000, 64536)), map.uids());
        assertEquals(List.of(new IdMap.Range(0, 100000, 65536)), map.gids());
        assertEquals(map, remap.resolve("1000"), "a numeric uid names the same user");
        assertEquals(500000, remap.resolve("alice:staff").hostGid(0));
        assertEquals(500000, remap.resolve("1000:50").hostGid(0));
    }

    @Test
    void emptyMeansNoUserNamespace() throws Exception {
        assertNull(remap.resolve(""));
        assertNull(remap.resolve(null));
    }

    @Test
    void badSettingsSayWhatIsMissing() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> remap.resolve("carol")).getMessage()
                .contains("no user \"carol\""));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> remap.resolve("bob")).getMessage()
                .contains("no subgid ranges found for \"bob\""));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> remap.resolve("alice:")).getMessage()
                .contains("expected default, USER, USER:GROUP"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> remap.resolve("alice:nogroup")).getMessage()
                .contains("no group \"nogroup\""));
    }

    @Test
    void theDataRootIsOpenedForTheRemappedRootButItsParentsAreOnlyChecked() throws Exception {
        Path parent = Files.createDirectories(dir.resolve("closed"));
        Path root = Files.createDirectories(parent.resolve("data"));
        Files.setAttribute(root, "unix:mode", 0700);
        Files.setAttribute(dir, "unix:mode", 0755);
        Files.setAttribute(parent, "unix:mode", 0700);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> UsernsRemap.makeSearchable(root));

        assertTrue(e.getMessage().contains(parent + " has mode 700"), e.getMessage());
        Files.setAttribute(parent, "unix:mode", 0711);
        UsernsRemap.makeSearchable(root);
        assertEquals(0711, (Integer) Files.getAttribute(root, "unix:mode") & 07777);
    }
}
