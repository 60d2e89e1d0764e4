package io.berth.runtime.oci;

/** The runtime contract with crun under conmon (through the private-mount-namespace wrapper on a hybrid host). */
class CrunRuntimeTest extends ContainerRuntimeContract {

    @Override
    String runtimeName() {
        return "crun";
    }

    @Override
    boolean sizesExecTerminalsBeforeTheyRun() {
        return false;
    }
}
