#!/usr/bin/env bash
# Benchmark (not a test) for issue 6, the same docker CLI against berth and dockerd (Debian's docker.io, its
# own data-root, exec-root, socket and bridge), alternating:
#   - 20 containers started in parallel on the default bridge (docker run -d ... sleep), wall time
#   - throughput of a published port: curl of a 200 MB file from busybox httpd through 127.0.0.1:PORT
# dockerd runs with --iptables=false so that it does not touch the host's firewall: its published ports then
# go through docker-proxy (userland), berth's through nftables DNAT; the note says so next to the figures.
# Usage: itests/bench/network.sh [RUNS]   (as root, after mvn package -DskipTests)
# Stops every daemon it started (by PID), removes every container, network, bridge and table it made.
set -euo pipefail
RUNS=${1:-5}
cd "$(dirname "$0")/../.."
DIST=$PWD/distribution/berth/target/berth
[ -x "$DIST/bin/berthd" ] || { echo "build first: mvn -B -o package -DskipTests" >&2; exit 1; }
command -v dockerd >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
DOCKER=${DOCKER:-/usr/local/bin/docker}
WORK=$(mktemp -d /var/tmp/berth-net-bench.XXXXXX)
had_docker0=$(ip link show docker0 >/dev/null 2>&1 && echo yes || echo no)
PIDS=()
b() { DOCKER_HOST=unix://$WORK/berth.sock "$DOCKER" "$@"; }
d() { DOCKER_HOST=unix://$WORK/docker.sock "$DOCKER" "$@"; }
cleanup() {
    for engine in b d; do
        ids=$($engine ps -aq 2>/dev/null || true)
        [ -z "$ids" ] || $engine rm -f $ids >/dev/null 2>&1 || true
    done
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" 2>/dev/null || true; fi
    done
    { grep -o " $WORK[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    ip link delete bbench0 2>/dev/null || true
    nft delete table ip berth_bbench0 2>/dev/null || true  # bbench0's table (berth0's is berth: not ours)
    [ "$had_docker0" = yes ] || ip link delete docker0 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
now_ms() { date +%s%3N; }
wait_for() { for _ in $(seq 1 600); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "timed out: $*" >&2; return 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

mkdir -p "$WORK/rootfs/bin" "$WORK/rootfs/etc" "$WORK/www"
cp /bin/busybox "$WORK/rootfs/bin/"
for a in sh sleep httpd; do ln -s busybox "$WORK/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$WORK/rootfs/etc/passwd"
tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .
head -c 200M /dev/urandom > "$WORK/www/big"

mkdir -p "$WORK/berth"
echo '{"storage-driver":"overlay2","bridge":"bbench0"}' > "$WORK/berth/daemon.json"
"$DIST/bin/berthd" --config-file "$WORK/berth/daemon.json" --data-root "$WORK/berth/data" \
    --exec-root "$WORK/berth/exec" -H "unix://$WORK/berth.sock" >"$WORK/berth/log" 2>&1 &
PIDS+=($!)
mkdir -p "$WORK/docker"
dockerd --data-root "$WORK/docker/data" --exec-root "$WORK/docker/exec" -H "unix://$WORK/docker.sock" \
    --pidfile "$WORK/docker/pid" --iptables=false --ip6tables=false --storage-driver overlay2 \
    >"$WORK/docker/log" 2>&1 &
PIDS+=($!)
wait_for b version; wait_for d version
b import "$WORK/rootfs.tar" bench/busybox:1 >/dev/null
d import "$WORK/rootfs.tar" bench/busybox:1 >/dev/null

parallel20() { # ENGINE -> ms for 20 run -d at once
    local t0 pids=()
    t0=$(now_ms)
    for i in $(seq 1 20); do $1 run -d bench/busybox:1 sleep 600 >/dev/null & pids+=($!); done
    for p in "${pids[@]}"; do wait "$p"; done
    echo $(( $(now_ms) - t0 ))
    $1 rm -f $($1 ps -aq) >/dev/null
}
throughput() { # ENGINE -> MB/s for the 200 MB file through a published port
    local port t0 t1
    port=$(free_port)
    $1 run -d --name web -p "127.0.0.1:$port:80" -v "$WORK/www:/www" bench/busybox:1 httpd -f -p 80 -h /www >/dev/null
    wait_for curl -sf -o /dev/null "http://127.0.0.1:$port/big"
    t0=$(now_ms); curl -sf -o /dev/null "http://127.0.0.1:$port/big"; t1=$(now_ms)
    $1 rm -f web >/dev/null
    awk -v ms=$((t1 - t0)) 'BEGIN {printf "%d", 200 * 1048576 / 1000000 / (ms / 1000)}'
}
stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%d %d-%d", a[int((NR+1)/2)], a[1], a[NR]}'; }

parallel20 b >/dev/null; parallel20 d >/dev/null
bs=(); ds=(); bt=(); dt=()
for i in $(seq 1 "$RUNS"); do
    bs+=("$(parallel20 b)"); ds+=("$(parallel20 d)")
    bt+=("$(throughput b)"); dt+=("$(throughput d)")
    echo "run $i: 20 in parallel berth ${bs[-1]} ms, dockerd ${ds[-1]} ms; port berth ${bt[-1]} MB/s, dockerd ${dt[-1]} MB/s"
done
{
    echo "Machine: $(nproc) cores, kernel $(uname -r), $(java -version 2>&1 | head -1), $(dockerd --version)"
    echo "Same docker CLI for both; median of $RUNS alternating runs after a warm-up (min-max); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "| scenario | berth | dockerd | ratio |"
    echo "|---|---|---|---|"
    read -r bm br <<<"$(stats "${bs[@]}")"; read -r dm dr <<<"$(stats "${ds[@]}")"
    awk -v bm="$bm" -v br="$br" -v dm="$dm" -v dr="$dr" 'BEGIN {printf "| 20 x run -d in parallel on the default bridge | %d ms (%s) | %d ms (%s) | %.2f |\n", bm, br, dm, dr, bm / dm}'
    read -r bm br <<<"$(stats "${bt[@]}")"; read -r dm dr <<<"$(stats "${dt[@]}")"
    awk -v bm="$bm" -v br="$br" -v dm="$dm" -v dr="$dr" 'BEGIN {printf "| published port, curl of 200 MB via 127.0.0.1 | %d MB/s (%s) | %d MB/s (%s) | %.2f |\n", bm, br, dm, dr, bm / dm}'
    echo
    echo "berth publishes with nftables DNAT; dockerd here runs with --iptables=false (not to touch the host's firewall), so its port goes through docker-proxy."
} | tee "$WORK/result.md"
mkdir -p itests/bench/results && cp "$WORK/result.md" itests/bench/results/network.md
