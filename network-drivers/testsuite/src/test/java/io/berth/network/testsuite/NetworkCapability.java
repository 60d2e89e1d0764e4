package io.berth.network.testsuite;

/** What a network driver declares it can do; the conformance suite runs a test only for the abilities it needs. */
public enum NetworkCapability {
    /** join sets up the namespace it is given (loopback up; the endpoint is not the host's namespace). */
    OWN_NAMESPACE,
    /** join leaves containers in the host's namespace and creates nothing. */
    HOST_NAMESPACE,
    /** join gives the namespace an interface with an address, a MAC and a gateway. */
    INTERFACES,
    /** networks can be created and deleted. */
    USER_NETWORKS,
    /** ports can be published on the host. */
    PUBLISH
}
