package io.berth.runtime.oci;

/** The runtime contract with runc under conmon. */
class RuncRuntimeTest extends ContainerRuntimeContract {

    @Override
    String runtimeName() {
        return "runc";
    }
}
