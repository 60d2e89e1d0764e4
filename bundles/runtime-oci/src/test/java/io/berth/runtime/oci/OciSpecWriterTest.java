package io.berth.runtime.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.spi.idmap.IdMap;
import io.berth.spi.runtime.RuntimeSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The config.json written for a RuntimeSpec, for both cgroup layouts, without running anything. */
class OciSpecWriterTest {

    @TempDir
    Path temp;

    private RuntimeSpec spec(RuntimeSpec.Resources resources, String network, boolean privileged, List<String> capAdd)
            throws Exception {
        Path rootfs = Files.createDirectories(temp.resolve("rootfs/etc"));
        Files.writeString(rootfs.resolve("passwd"), "root:x:0:0:root:/root:/bin/sh\nweb:x:33:33::/var/www:/bin/sh\n");
        return new RuntimeSpec(rootfs.getParent(), false, new RuntimeSpec.Process(List.of("httpd"), List.of("A=1"),
                "/srv", "web", false, true, capAdd, List.of()), "box", "", List.of(), resources, network, privileged,
                null, List.of(), List.of(), List.of(), List.of(), Map.of(), 0);
    }

    private ObjectNode config(CgroupLayout layout, RuntimeSpec spec) throws Exception {
        return new OciSpecWriter(layout, true).configFor("abc", spec, temp.resolve("etc"));
    }

    private static List<String> texts(JsonNode array) {
        List<String> list = new ArrayList<>();
        array.forEach(node -> list.add(node.isObject() ? node.path("type").asText() : node.asText()));
        return list;
    }

    @Test
    void limitsNamespacesAndProcessAsDockerSetsThem() throws Exception {
        RuntimeSpec spec = spec(new RuntimeSpec.Resources(64L << 20, 0, 1_500_000_000L, 512, 100), null, false,
                List.of());
        JsonNode config = config(CgroupLayout.HYBRID, spec);
        JsonNode resources = config.path("linux").path("resources");
        assertEquals(64L << 20, resources.path("memory").path("limit").asLong());
        assertEquals(128L << 20, resources.path("memory").path("swap").asLong(), "Docker's default: twice the memory");
        assertEquals(150_000, resources.path("cpu").path("quota").asLong());
        assertEquals(100_000, resources.path("cpu").path("period").asLong());
        assertEquals(512, resources.path("cpu").path("shares").asLong());
        assertEquals(100, resources.path("pids").path("limit").asLong());
        assertEquals("/berth/abc", config.path("linux").path("cgroupsPath").asText());
        assertEquals(List.of("pid", "mount", "uts", "ipc", "network"), texts(config.path("linux").path("namespaces")));
        assertTrue(config.path("linux").path("namespaces").path(4).path("path").isMissingNode());

        JsonNode process = config.path("process");
        assertEquals(33, process.path("user").path("uid").asInt());
        assertEquals("/srv", process.path("cwd").asText());
        assertEquals(List.of(OciSpecWriter.DEFAULT_PATH, "HOSTNAME=box", "HOME=/var/www", "A=1"),
                texts(process.path("env")));
        assertTrue(process.path("noNewPrivileges").asBoolean());
        assertEquals(Capabilities.DEFAULT, texts(process.path("capabilities").path("effective")));
        long nofile = process.path("rlimits").path(0).path("hard").asLong();
        assertTrue(nofile <= HostLimits.hard("Max open files").orElse(Long.MAX_VALUE));
        assertEquals(OciSpecWriter.MASKED_PATHS, texts(config.path("linux").path("maskedPaths")));
        assertEquals(OciSpecWriter.READONLY_PATHS, texts(config.path("linux").path("readonlyPaths")));

        JsonNode seccomp = config.path("linux").path("seccomp");
        assertEquals("SCMP_ACT_ERRNO", seccomp.path("defaultAction").asText());
        assertFalse(seccomp.toString().contains("\"mount\""), "mount needs CAP_SYS_ADMIN");
        assertFalse(seccomp.toString().contains("berth.whenCapability"));
    }

    @Test
    void aUserNamespaceGetsItsMappingsAndTheEtcFilesBelongToItsRoot() throws Exception {
        RuntimeSpec plain = spec(RuntimeSpec.Resources.NONE, null, false, List.of());
        IdMap map = new IdMap(List.of(new IdMap.Range(0, 100000, 65536)),
                List.of(new IdMap.Range(0, 200000, 1000), new IdMap.Range(1000, 300000, 1000)));
        RuntimeSpec spec = new RuntimeSpec(plain.rootfs(), false, plain.process(), "box", "", List.of(),
                RuntimeSpec.Resources.NONE, null, false, null, List.of(), List.of(), List.of(), List.of(), Map.of(), 0,
                map);

        JsonNode linux = config(CgroupLayout.HYBRID, spec).path("linux");
        OciSpecWriter.writeEtcFiles(spec, temp.resolve("etc"));

        assertEquals(List.of("pid", "mount", "uts", "ipc", "user", "network"), texts(linux.path("namespaces")));
        assertEquals("[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]", linux.path("uidMappings").toString());
        assertEquals(300000, linux.path("gidMappings").path(1).path("hostID").asInt());
        assertEquals(1000, linux.path("gidMappings").path(1).path("containerID").asInt());
        assertEquals(100000, Files.getAttribute(temp.resolve("etc/hosts"), "unix:uid"));
        assertEquals(200000, Files.getAttribute(temp.resolve("etc/resolv.conf"), "unix:gid"));
        assertFalse(config(CgroupLayout.HYBRID, plain).path("linux").has("uidMappings"));
    }

    @Test
    void cgroupV2HostsGetACgroupNamespace() throws Exception {
        JsonNode config = config(CgroupLayout.UNIFIED, spec(RuntimeSpec.Resources.NONE, null, false, List.of()));
        assertTrue(texts(config.path("linux").path("namespaces")).contains("cgroup"));
    }

    @Test
    void hostAndPathNetworks() throws Exception {
        JsonNode host = config(CgroupLayout.HYBRID, spec(RuntimeSpec.Resources.NONE, "host", false, List.of()));
        assertFalse(texts(host.path("linux").path("namespaces")).contains("network"));
        JsonNode joined = config(CgroupLayout.HYBRID, spec(RuntimeSpec.Resources.NONE, "/proc/1/ns/net", false,
                List.of()));
        assertEquals("/proc/1/ns/net", joined.path("linux").path("namespaces").path(4).path("path").asText());
        assertThrows(IllegalArgumentException.class, () -> config(CgroupLayout.HYBRID,
                spec(RuntimeSpec.Resources.NONE, "/run/netns/none-such", false, List.of())));
    }

    @Test
    void capSysAdminAllowsMountsInTheProfileAndPrivilegedHasNoProfile() throws Exception {
        JsonNode admin = config(CgroupLayout.HYBRID, spec(RuntimeSpec.Resources.NONE, null, false,
                List.of("sys_admin")));
        assertTrue(admin.path("linux").path("seccomp").toString().contains("\"mount\""));
        JsonNode privileged = config(CgroupLayout.HYBRID, spec(RuntimeSpec.Resources.NONE, null, true, List.of()));
        assertTrue(privileged.path("linux").path("seccomp").isMissingNode());
        assertTrue(privileged.path("linux").path("maskedPaths").isMissingNode());
        assertEquals(Capabilities.bounding(), texts(privileged.path("process").path("capabilities").path("bounding")));
        assertTrue(privileged.path("linux").path("devices").toString().contains("\"path\":\"/dev/null\""));
        assertFalse(privileged.path("linux").path("devices").toString().contains("/dev/pts/"));
    }

    @Test
    void capabilitiesAddAndDropAsDocker() {
        assertEquals(List.of(), Capabilities.of(false, List.of(), List.of("ALL")));
        assertEquals(List.of("CAP_KILL"), Capabilities.of(false, List.of("kill"), List.of("ALL")));
        List<String> available = List.of("CAP_CHOWN", "CAP_KILL", "CAP_NET_ADMIN");
        assertEquals(available, Capabilities.of(false, List.of("ALL"), List.of("CHOWN"), available));
        assertThrows(IllegalArgumentException.class,
                () -> Capabilities.of(false, List.of("SYS_RESOURCE"), List.of(), available));
        assertFalse(Capabilities.of(false, List.of(), List.of("cap_chown")).contains("CAP_CHOWN"));
        assertThrows(IllegalArgumentException.class, () -> Capabilities.of(false, List.of("CAP_NOPE"), List.of()));
    }

    @Test
    void resolvConfDropsLoopbackNameServersUnlessTheNetworkIsTheHosts() throws Exception {
        String host = "nameserver 127.0.0.53\nnameserver 10.0.0.1\nsearch corp.test\noptions edns0\n";
        RuntimeSpec own = spec(RuntimeSpec.Resources.NONE, null, false, List.of());
        assertEquals("nameserver 10.0.0.1\nsearch corp.test\noptions edns0\n", EtcFiles.resolvConf(own, host));
        assertEquals("nameserver 8.8.8.8\nnameserver 8.8.4.4\n", EtcFiles.resolvConf(own, "nameserver 127.0.0.1\n"));
        RuntimeSpec hostNetwork = spec(RuntimeSpec.Resources.NONE, "host", false, List.of());
        assertTrue(EtcFiles.resolvConf(hostNetwork, host).startsWith("nameserver 127.0.0.53\n"));
    }

    @Test
    void usersByIdAndName() throws Exception {
        Path rootfs = spec(RuntimeSpec.Resources.NONE, null, false, List.of()).rootfs();
        Files.writeString(rootfs.resolve("etc/group"), "www:x:33:\nadm:x:4:web\n");
        assertEquals(new ContainerUser(33, 33, List.of(33L, 4L), "/var/www"), ContainerUser.resolve(rootfs, "web"));
        assertEquals(new ContainerUser(33, 4, List.of(4L), "/var/www"), ContainerUser.resolve(rootfs, "33:adm"));
        assertEquals(new ContainerUser(4242, 7, List.of(7L), "/"), ContainerUser.resolve(rootfs, "4242:7"));
        assertThrows(IllegalArgumentException.class, () -> ContainerUser.resolve(rootfs, "web:nogroup"));
        assertThrows(IllegalArgumentException.class, () -> ContainerUser.resolve(rootfs, "99999999999"));
    }
}
