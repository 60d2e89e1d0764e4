package io.berth.itests;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * {@link DockerCliIT}'s suite again, with the docker CLI talking to berthd over tcp://127.0.0.1:PORT with mutual
 * TLS (certificates made by openssl for each test) instead of the unix socket. The tests that start daemons of
 * their own for the bridge network, and the one that is about TLS itself, run over the unix socket only: they
 * would cost minutes here and test nothing of the transport that the others do not.
 */
class DockerCliTlsIT extends DockerCliIT {

    private TestPki pki;
    /** Each daemon's TLS port. */
    private final Map<BerthDaemon, Integer> ports = new ConcurrentHashMap<>();

    @Override
    BerthDaemon launch(Path distribution, Path root, String... args) throws Exception {
        if (pki == null) {
            pki = TestPki.create(dir.resolve("pki"));
        }
        int port = freePort();
        List<String> all = new ArrayList<>(pki.daemonArgs(port));
        all.addAll(List.of(args));
        BerthDaemon started = super.launch(distribution, root, all.toArray(String[]::new));
        ports.put(started, port);
        return started;
    }

    @Override
    DockerCli connect(BerthDaemon daemon) {
        return DockerCli.overTls(daemon, pki, ports.get(daemon));
    }

    @Override
    @Test
    @Disabled("over the unix socket only: this test is about TLS itself")
    void theCliWorksOverTcpWithMutualTlsAndStrangersAreTurnedAway() {
    }

    @Override
    @Test
    @Disabled("over the unix socket only: a bridge daemon of its own (minutes, and the host's network lock)")
    void networksAreCreatedListedInspectedAndRemoved() {
    }

    @Override
    @Test
    @Disabled("over the unix socket only: a bridge daemon of its own (minutes, and the host's network lock)")
    void containersReachEachOtherOnTheirNetworksAndPublishedPortsAnswer() {
    }

    @Override
    @Test
    @Disabled("over the unix socket only: a bridge daemon of its own (minutes, and the host's network lock)")
    void networkedContainersStayReachableThroughAKilledDaemon() {
    }

    @Override
    @Test
    @Disabled("over the unix socket only: a bridge daemon of its own (minutes, and the host's network lock)")
    void aBridgeBundleUpdateDropsNoFetchAndTheNewInstanceKeepsTheEndpoints() {
    }

    @Override
    @Test
    @Disabled("over the unix socket only: a bridge daemon of its own (minutes, and the host's network lock)")
    void udpPortsArePublishedOnLoopbackAndOnTheHostsOwnAddress() {
    }

    @Override
    @Test
    @Disabled("over the unix socket only: a bridge daemon of its own (minutes, and the host's network lock)")
    void badNetworkInputIsRefusedAndLeavesNothingHalfMade() {
    }

    @Override
    @Test
    @Disabled("over the unix socket only: a bridge daemon of its own (minutes, and the host's network lock)")
    void stoppedContainersAreConnectedAndDisconnectedAtTheirNextStart() {
    }
}
