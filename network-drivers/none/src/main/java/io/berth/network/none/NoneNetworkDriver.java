package io.berth.network.none;

import io.berth.network.support.NetCommands;
import io.berth.network.support.PredefinedNetworkDriver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Docker's {@code none} network: the container's namespace keeps only its
 * loopback interface, which is brought up (a fresh namespace has it down).
 */
public class NoneNetworkDriver extends PredefinedNetworkDriver {

    public static final String NAME = "none";

    public NoneNetworkDriver(Path root) throws IOException {
        super(NAME, root);
    }

    @Override
    protected void prepare(Path netns) throws IOException {
        if (netns == null || !Files.exists(netns)) {
            throw new IllegalArgumentException("network namespace " + netns + " does not exist");
        }
        NetCommands.inNamespace(netns, "ip", "link", "set", "lo", "up");
    }

    @Override
    protected boolean usesHostNamespace() {
        return false;
    }
}
