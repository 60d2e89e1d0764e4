package io.berth.images;

import static io.berth.images.FileLayerStoreTest.sha256;
import static io.berth.images.FileLayerStoreTest.tar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.spi.images.Layer;
import io.berth.spi.images.LayerStore.LayerChain;
import io.berth.spi.storage.StorageDriver;
import io.berth.storage.overlay.OverlayStorageDriver;
import io.berth.storage.vfs.VfsStorageDriver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Layers stored out of order ({@code beginChain}) with the real overlay driver, which allows it, and vfs, which does not. */
class LayerChainTest {

    private static final String CONTAINER = "c".repeat(64);

    @TempDir
    Path temp;

    private final Map<String, StorageDriver> drivers = new TreeMap<>();
    private final byte[] baseTar = tarOf("etc/base", "base");
    private final List<byte[]> chainTars = List.of(tarOf("etc/one", "1"), tarOf("etc/two", "2"), tarOf("etc/three", "3"));
    private FileLayerStore store;

    private static byte[] tarOf(String path, String content) {
        try {
            return tar(Map.of(path, content));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @BeforeEach
    void setUp() throws IOException {
        drivers.put("overlay2", new OverlayStorageDriver(temp.resolve("overlay2")));
        drivers.put("vfs", new VfsStorageDriver(temp.resolve("vfs")));
        store = newStore("overlay2");
    }

    private FileLayerStore newStore(String driver) throws IOException {
        return new FileLayerStore(temp.resolve("layers"), FileLayerStoreTest.driversOf(drivers), () -> Optional.of(driver));
    }

    private List<String> diffIds() throws Exception {
        return chainTars.stream().map(tar -> {
            try {
                return "sha256:" + sha256(tar);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).toList();
    }

    @Test
    void layersUnpackedTopFirstAreCommittedInOrderAndShowEveryLayer() throws Exception {
        Layer base = store.register(new ByteArrayInputStream(baseTar), null);
        Layer top;
        try (LayerChain chain = store.beginChain(base.chainId(), diffIds())) {
            assertNotNull(chain, "overlay2 lets layers be unpacked out of order");
            assertEquals(2, store.get(base.chainId()).references(), "the chain holds its base meanwhile");
            chain.unpack(2, new ByteArrayInputStream(chainTars.get(2)));
            chain.unpack(0, new ByteArrayInputStream(chainTars.get(0)));
            assertNull(chain.commit(1), "not unpacked yet");
            chain.unpack(1, new ByteArrayInputStream(chainTars.get(1)));
            Layer one = chain.commit(0);
            Layer two = chain.commit(1);
            top = chain.commit(2);
            assertEquals(base.chainId(), one.parent());
            assertEquals(one.chainId(), two.parent());
            assertEquals("sha256:" + sha256((two.chainId() + " " + top.diffId()).getBytes(java.nio.charset.StandardCharsets.UTF_8)), top.chainId());
            assertEquals(2, store.get(one.chainId()).references(), "its own reference and its child's");
            store.release(one.chainId()); // as an image does: it keeps a reference on its top layer only
            store.release(two.chainId());
        }
        assertEquals(2, store.get(base.chainId()).references(), "the image's and the child's, not the chain's");
        assertEquals(4, store.layers().size());
        store.createReadWrite(CONTAINER, top.chainId());
        Path view = store.mountReadWrite(CONTAINER);
        try {
            for (String[] file : new String[][] {{"base", "base"}, {"one", "1"}, {"two", "2"}, {"three", "3"}}) {
                assertEquals(file[1], Files.readString(view.resolve("etc/" + file[0])));
            }
        } finally {
            store.unmountReadWrite(CONTAINER);
            store.removeReadWrite(CONTAINER);
        }
        store.release(top.chainId());
        store.release(base.chainId());
        assertEquals(List.of(), store.layers(), "the chain's layers go like any others");
        assertEquals(List.of(), overlayLayers());
    }

    @Test
    void aChainClosedHalfWayLeavesNothingButWhatItCommitted() throws Exception {
        Layer base = store.register(new ByteArrayInputStream(baseTar), null);
        Layer one;
        try (LayerChain chain = store.beginChain(base.chainId(), diffIds())) {
            chain.unpack(2, new ByteArrayInputStream(chainTars.get(2)));
            chain.unpack(0, new ByteArrayInputStream(chainTars.get(0)));
            one = chain.commit(0);
        }
        assertEquals(2, store.layers().size(), "the base and the committed layer");
        assertEquals(1, store.get(one.chainId()).references());
        assertEquals(2, store.get(base.chainId()).references());
        assertEquals(2, overlayLayers().size(), "the uncommitted layers left the driver");
        assertEquals(List.of(), notes());
    }

    @Test
    void aTarThatIsNotItsDiffIdIsRefusedAndCannotBeCommitted() throws Exception {
        try (LayerChain chain = store.beginChain(null, diffIds())) {
            IOException e = assertThrows(IOException.class,
                    () -> chain.unpack(0, new ByteArrayInputStream(chainTars.get(1))));
            assertTrue(e.getMessage().contains("gives diff id"), e.getMessage());
            assertNull(chain.commit(0));
        }
        assertEquals(List.of(), store.layers());
        assertEquals(List.of(), overlayLayers());
    }

    @Test
    void aLayerRegisteredMeanwhileIsNotCommittedTwice() throws Exception {
        try (LayerChain chain = store.beginChain(null, diffIds())) {
            chain.unpack(0, new ByteArrayInputStream(chainTars.get(0)));
            chain.unpack(1, new ByteArrayInputStream(chainTars.get(1)));
            Layer other = store.register(new ByteArrayInputStream(chainTars.get(0)), null); // another pull's
            assertNull(chain.commit(0), "its chain id is recorded already");
            assertNull(chain.commit(1), "built on the chain's own copy of layer 1, which is not the recorded one");
            store.release(other.chainId());
        }
        assertEquals(List.of(), store.layers());
        assertEquals(List.of(), overlayLayers());
    }

    @Test
    void whatACrashedChainLeftIsRemovedAtTheNextStart() throws Exception {
        Layer base = store.register(new ByteArrayInputStream(baseTar), null);
        LayerChain chain = store.beginChain(base.chainId(), diffIds()); // never closed: the daemon dies
        chain.unpack(1, new ByteArrayInputStream(chainTars.get(1)));
        chain.unpack(0, new ByteArrayInputStream(chainTars.get(0)));
        Layer one = chain.commit(0);
        assertEquals(4, overlayLayers().size());

        FileLayerStore restarted = newStore("overlay2");
        assertEquals(2, restarted.layers().size(), "the base and the committed layer");
        assertEquals(2, restarted.get(base.chainId()).references(), "the chain's reference is dropped");
        assertEquals(1, restarted.get(one.chainId()).references());
        assertEquals(2, overlayLayers().size());
        assertEquals(List.of(), notes());
    }

    @Test
    void aDriverThatCopiesItsParentHasNoChain() throws Exception {
        assertNull(newStore("vfs").beginChain(null, diffIds()));
    }

    private List<Path> overlayLayers() throws IOException {
        try (Stream<Path> dirs = Files.list(temp.resolve("overlay2"))) {
            return dirs.filter(dir -> dir.getFileName().toString().matches("[0-9a-f]{64}")).toList();
        }
    }

    private List<Path> notes() throws IOException {
        try (Stream<Path> files = Files.list(temp.resolve("layers"))) {
            return files.filter(file -> file.getFileName().toString().startsWith(".")).toList();
        }
    }
}
