package io.berth.shell;

import io.berth.spi.images.Layer;
import io.berth.spi.images.LayerStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.felix.service.command.Descriptor;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * Gogo commands in scope {@code berth} for the layer store and the storage
 * driver in use; {@code storage-use} and {@code storage-migrate} are
 * {@link DashedCommands}.
 */
// Immediate: the dashed commands must stay registered, not come and go with each call of berth:layers.
@Component(service = StorageCommands.class, immediate = true, property = {
        "osgi.command.scope=berth",
        "osgi.command.function=layers"})
public class StorageCommands {

    private final LayerStore layers;
    private final DashedCommands dashedCommands;

    @Activate
    public StorageCommands(BundleContext context, @Reference LayerStore layers) {
        this.layers = layers;
        this.dashedCommands = new DashedCommands(context);
        dashedCommands.register("storage-use", arguments -> {
            storageUse(DashedCommands.single(arguments, "storage-use NAME"));
            return null;
        });
        dashedCommands.register("storage-migrate", arguments -> {
            storageMigrate(DashedCommands.single(arguments, "storage-migrate NAME"));
            return null;
        });
    }

    @Deactivate
    void stop() {
        dashedCommands.unregisterAll();
    }

    @Descriptor("list the image layers with the storage driver that holds each")
    public void layers() throws IOException {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"CHAIN ID", "DRIVER", "SIZE", "REFS", "PARENT"});
        for (Layer layer : layers.layers()) {
            rows.add(new String[] {short12(layer.chainId()), layer.driver(), Long.toString(layer.size()),
                    Integer.toString(layer.references()), layer.parent() == null ? "-" : short12(layer.parent())});
        }
        System.out.println("New layers go to: " + currentDriver());
        System.out.print(Table.render(rows));
    }

    /** Sends new layers and new containers to another storage driver, now; existing ones stay where they are. */
    void storageUse(String name) {
        layers.useDriver(name);
        System.out.println("new layers and containers now use storage driver " + name);
    }

    /** Re-creates every layer in the given driver from its content in the driver that holds it. */
    void storageMigrate(String name) throws IOException {
        int moved = layers.migrate(name);
        System.out.println("moved " + moved + " layer(s) to storage driver " + name);
    }

    private String currentDriver() {
        try {
            return layers.currentDriver();
        } catch (IllegalStateException e) {
            return "(none: " + e.getMessage() + ")";
        }
    }

    private static String short12(String chainId) {
        String hex = chainId.startsWith("sha256:") ? chainId.substring(7) : chainId;
        return hex.substring(0, Math.min(12, hex.length()));
    }
}
