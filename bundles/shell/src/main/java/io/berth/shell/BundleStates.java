package io.berth.shell;

import org.osgi.framework.Bundle;

/** Bundle state names as operators read them. */
final class BundleStates {

    private BundleStates() {
    }

    static String name(int state) {
        return switch (state) {
            case Bundle.ACTIVE -> "Active";
            case Bundle.RESOLVED -> "Resolved";
            case Bundle.INSTALLED -> "Installed";
            case Bundle.STARTING -> "Starting";
            case Bundle.STOPPING -> "Stopping";
            case Bundle.UNINSTALLED -> "Uninstalled";
            default -> "Unknown(" + state + ")";
        };
    }
}
