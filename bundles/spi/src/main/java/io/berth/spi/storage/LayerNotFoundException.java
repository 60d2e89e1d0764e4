package io.berth.spi.storage;

import java.io.IOException;

/** A layer id that the driver does not hold. */
public class LayerNotFoundException extends IOException {

    private static final long serialVersionUID = 1L;

    public LayerNotFoundException(String id) {
        super("layer " + id + " does not exist");
    }
}
