#!/usr/bin/env bash
# Benchmark (not a test) for issue 7: the same docker CLI against berth and against dockerd (Debian's
# docker.io, its own data-root, exec-root and socket; no bridge, no iptables), alternating runs:
#   - docker run --rm IMAGE true            (target: berth <= 0.25x dockerd)
#   - docker ps -a with 50 containers
# Both run with --network none and overlay2, from the same busybox-static image.
# Usage: itests/bench/engine-api.sh [RUNS]   (as root, after mvn package -DskipTests)
# Stops every daemon it started (by PID) and removes everything it made, also when interrupted.
set -euo pipefail
RUNS=${1:-10}
cd "$(dirname "$0")/../.."
DIST=$PWD/distribution/berth/target/berth
[ -x "$DIST/bin/berthd" ] || { echo "build first: mvn -B -o package -DskipTests" >&2; exit 1; }
command -v dockerd >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
DOCKER=${DOCKER:-/usr/local/bin/docker}
WORK=$(mktemp -d /var/tmp/berth-api-bench.XXXXXX)
PIDS=()
cleanup() {
    for sock in "$WORK/berth.sock" "$WORK/docker.sock"; do
        ids=$(DOCKER_HOST=unix://$sock "$DOCKER" ps -aq 2>/dev/null || true)
        [ -z "$ids" ] || DOCKER_HOST=unix://$sock "$DOCKER" rm -f $ids >/dev/null 2>&1 || true
    done
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" 2>/dev/null || true; fi
    done
    { grep -o " $WORK[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
now_ms() { date +%s%3N; }
wait_for() { for _ in $(seq 1 600); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "timed out: $*" >&2; return 1; }

mkdir -p "$WORK/rootfs/bin" "$WORK/rootfs/etc"
cp /bin/busybox "$WORK/rootfs/bin/"
for a in sh true sleep; do ln -s busybox "$WORK/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$WORK/rootfs/etc/passwd"
tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .

mkdir -p "$WORK/berth"
echo '{"storage-driver":"overlay2","bridge":"none"}' > "$WORK/berth/daemon.json"
"$DIST/bin/berthd" --config-file "$WORK/berth/daemon.json" --data-root "$WORK/berth/data" \
    --exec-root "$WORK/berth/exec" -H "unix://$WORK/berth.sock" >"$WORK/berth/log" 2>&1 &
PIDS+=($!)
mkdir -p "$WORK/docker"
dockerd --data-root "$WORK/docker/data" --exec-root "$WORK/docker/exec" -H "unix://$WORK/docker.sock" \
    --pidfile "$WORK/docker/pid" --bridge none --iptables=false --ip6tables=false --storage-driver overlay2 \
    >"$WORK/docker/log" 2>&1 &
PIDS+=($!)
b() { DOCKER_HOST=unix://$WORK/berth.sock "$DOCKER" "$@"; }
d() { DOCKER_HOST=unix://$WORK/docker.sock "$DOCKER" "$@"; }
wait_for b version; wait_for d version
b import "$WORK/rootfs.tar" bench/busybox:1 >/dev/null
d import "$WORK/rootfs.tar" bench/busybox:1 >/dev/null

time_ms() { local t0; t0=$(now_ms); "$@" >/dev/null; echo $(( $(now_ms) - t0 )); }
stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%d %d-%d", a[int((NR+1)/2)], a[1], a[NR]}'; }

# warm-up, then alternate
b run --rm --network none bench/busybox:1 true; d run --rm --network none bench/busybox:1 true
br=(); dr=()
for i in $(seq 1 "$RUNS"); do
    br+=("$(time_ms b run --rm --network none bench/busybox:1 true)")
    dr+=("$(time_ms d run --rm --network none bench/busybox:1 true)")
done
for i in $(seq 1 50); do
    b create --network none bench/busybox:1 true >/dev/null
    d create --network none bench/busybox:1 true >/dev/null
done
b ps -a >/dev/null; d ps -a >/dev/null
bp=(); dp=()
for i in $(seq 1 "$RUNS"); do bp+=("$(time_ms b ps -a)"); dp+=("$(time_ms d ps -a)"); done

row() { read -r bm brange <<<"$(stats $2)"; read -r dm drange <<<"$(stats $3)"
    awk -v n="$1" -v bm="$bm" -v br="$brange" -v dm="$dm" -v dr="$drange" \
        'BEGIN {printf "| %s | %d ms (%s) | %d ms (%s) | %.2f |\n", n, bm, br, dm, dr, bm / dm}'; }
{
    echo "Machine: $(nproc) cores, kernel $(uname -r), $(java -version 2>&1 | head -1), $(dockerd --version)"
    echo "Client: $("$DOCKER" version --format '{{.Client.Version}}' 2>/dev/null) for both; median of $RUNS alternating runs after a warm-up (min-max); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "| scenario | berth | dockerd | ratio |"
    echo "|---|---|---|---|"
    row "docker run --rm --network none IMAGE true" "${br[*]}" "${dr[*]}"
    row "docker ps -a with 50 containers" "${bp[*]}" "${dp[*]}"
} | tee "$WORK/result.md"
mkdir -p itests/bench/results && cp "$WORK/result.md" itests/bench/results/engine-api.md
