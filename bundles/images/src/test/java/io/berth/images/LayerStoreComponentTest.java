package io.berth.images;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.spi.images.LayerStore;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The service the daemon registers hands every LayerStore call to the store, defaults included. */
class LayerStoreComponentTest {

    @Test
    void everyDefaultTheStoreOverridesIsDelegatedToo() {
        // Left to its default, such a method would answer with the interface's fallback in the daemon.
        List<String> notDelegated = Arrays.stream(LayerStore.class.getMethods())
                .filter(Method::isDefault)
                .filter(method -> declares(FileLayerStore.class, method) && !declares(LayerStoreComponent.class, method))
                .map(Method::toString).toList();
        assertEquals(List.of(), notDelegated);
    }

    private static boolean declares(Class<?> type, Method method) {
        try {
            type.getDeclaredMethod(method.getName(), method.getParameterTypes());
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }
}
