#!/usr/bin/env bash
# Sets up a Debian/Ubuntu machine for berth and starts the engine with its shell:
# installs what is missing (JDK 17, Maven, curl, attr, conmon, runc, crun, procps, nftables, iproute2), builds the distribution if it
# is not built yet or the sources changed, then runs bin/berthd --shell with the
# defaults (data-root /var/lib/berth, exec-root /run/berth, socket
# unix:///run/berth/berth.sock). Extra arguments go to berthd.
# Run it as root: sudo distribution/start.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "start.sh: run as root (berth owns /var/lib/berth and /run/berth): sudo $0 $*" >&2
    exit 1
fi

missing=()
command -v javac >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v setfattr >/dev/null 2>&1 || missing+=(attr)   # layer xattrs (getfattr/setfattr)
command -v conmon >/dev/null 2>&1 || missing+=(conmon)   # supervises each container outside the JVM
command -v runc >/dev/null 2>&1 || missing+=(runc)       # the OCI runtimes that run containers
command -v crun >/dev/null 2>&1 || missing+=(crun)
command -v ps >/dev/null 2>&1 || missing+=(procps)       # berth:top
command -v nft >/dev/null 2>&1 || missing+=(nftables)    # the bridge network's NAT, isolation and published ports
command -v ip >/dev/null 2>&1 || missing+=(iproute2)     # bridges, veths and addresses
if [ ${#missing[@]} -gt 0 ]; then
    echo "start.sh: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

DIST=distribution/berth/target/berth
if [ ! -x "$DIST/bin/berthd" ] || [ -n "$(find pom.xml framework bundles storage-drivers network-drivers distribution \
        -newer "$DIST/bin/berthd" -type f ! -path '*/target/*' -print -quit)" ]; then
    echo "start.sh: building the distribution (mvn package)"
    mvn -B -q -ntp -DskipTests package
fi

exec "$DIST/bin/berthd" --shell "$@"
