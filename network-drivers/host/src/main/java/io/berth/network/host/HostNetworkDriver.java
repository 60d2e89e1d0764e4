package io.berth.network.host;

import io.berth.network.support.PredefinedNetworkDriver;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Docker's {@code host} network: the container shares the host's network
 * namespace, so joining creates nothing; the endpoint says so.
 */
public class HostNetworkDriver extends PredefinedNetworkDriver {

    public static final String NAME = "host";

    public HostNetworkDriver(Path root) throws IOException {
        super(NAME, root);
    }

    @Override
    protected void prepare(Path netns) {
        // the host's namespace is already there; a namespace given anyway is not touched
    }

    @Override
    protected boolean usesHostNamespace() {
        return true;
    }
}
