package io.berth.containers;

import io.berth.spi.idmap.IdMap;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.berth.spi.containers.Container;
import io.berth.spi.containers.HostConfig;
import io.berth.spi.runtime.RuntimeSpec;
import java.util.List;

/**
 * What {@code <data-root>/containers/<id>/container.json} holds: the container as inspect shows it, and what
 * the engine needs besides.
 *
 * @param container     the container
 * @param runtime       the name of the runtime that runs it; it always goes back to that one
 * @param stoppedByUser whether the user stopped it (restart policies stay off until the next start)
 * @param parentChainId the chain id of its image's top layer, under its read-write layer (null: empty image)
 * @param mounts        its volumes, binds and tmpfs mounts as the runtime mounts them, planned at create
 * @param volumes       the volumes it uses (named and anonymous)
 * @param idMap         its user namespace's id map (daemon.json {@code userns-remap} when it was created), or null
 */
@JsonIgnoreProperties(ignoreUnknown = true)
record StoredContainer(Container container, String runtime, boolean stoppedByUser, String parentChainId,
                       List<RuntimeSpec.Mount> mounts, List<String> volumes, IdMap idMap) {

    StoredContainer {
        mounts = mounts == null ? List.of() : List.copyOf(mounts);
        volumes = volumes == null ? List.of() : List.copyOf(volumes);
    }

    String id() {
        return container.id();
    }

    Container.State state() {
        return container.state();
    }

    StoredContainer withState(Container.State state) {
        Container c = container;
        return new StoredContainer(new Container(c.id(), c.created(), c.path(), c.args(), state, c.image(),
                c.name(), c.restartCount(), c.driver(), c.logPath(), c.mounts(), c.config(), c.hostConfig(),
                c.networkSettings()), runtime, stoppedByUser, parentChainId, mounts, volumes, idMap);
    }

    StoredContainer withName(String name) {
        Container c = container;
        return new StoredContainer(new Container(c.id(), c.created(), c.path(), c.args(), c.state(), c.image(),
                name, c.restartCount(), c.driver(), c.logPath(), c.mounts(), c.config(), c.hostConfig(),
                c.networkSettings()), runtime, stoppedByUser, parentChainId, mounts, volumes, idMap);
    }

    StoredContainer withRestartCount(int restartCount) {
        Container c = container;
        return new StoredContainer(new Container(c.id(), c.created(), c.path(), c.args(), c.state(), c.image(),
                c.name(), restartCount, c.driver(), c.logPath(), c.mounts(), c.config(), c.hostConfig(),
                c.networkSettings()), runtime, stoppedByUser, parentChainId, mounts, volumes, idMap);
    }

    StoredContainer withNetworkSettings(Container.NetworkSettings settings) {
        return new StoredContainer(container.withNetworkSettings(settings), runtime, stoppedByUser, parentChainId,
                mounts, volumes, idMap);
    }

    StoredContainer withHostConfig(HostConfig hostConfig) {
        Container c = container;
        return new StoredContainer(new Container(c.id(), c.created(), c.path(), c.args(), c.state(), c.image(),
                c.name(), c.restartCount(), c.driver(), c.logPath(), c.mounts(), c.config(), hostConfig,
                c.networkSettings()), runtime, stoppedByUser, parentChainId, mounts, volumes, idMap);
    }

    StoredContainer withStoppedByUser(boolean stopped) {
        return new StoredContainer(container, runtime, stopped, parentChainId, mounts, volumes, idMap);
    }

    /** Running or paused: its process exists. */
    boolean isUp() {
        return container.state().running();
    }
}
