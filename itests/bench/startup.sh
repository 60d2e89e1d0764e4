#!/usr/bin/env bash
# Measures berthd's cold start (process launch until /_ping answers OK) and
# its idle resident memory, over N runs (default 5), and prints the median.
# Usage: itests/bench/startup.sh [RUNS] [DISTRIBUTION_DIR]
# Uses its own temporary data-root, exec-root and socket; stops each daemon it
# started (by PID) and removes what it created, also when interrupted.
set -euo pipefail
RUNS=${1:-5}
DIST=${2:-$(cd "$(dirname "$0")/../../distribution/berth/target/berth" && pwd)}
WORK=$(mktemp -d /tmp/berth-bench.XXXXXX)
PID=""
# The daemon starts as the distribution does, with the default bridge (berth0 and nftables table berth):
# measured as users get it, and removed afterwards if this script made it.
had_bridge=$(ip link show berth0 >/dev/null 2>&1 && echo yes || echo no)
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill "$PID"; wait "$PID" 2>/dev/null || true; fi
    if [ "$had_bridge" = no ]; then
        ip link delete berth0 2>/dev/null || true
        nft delete table ip berth 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

now_ms() { date +%s%3N; }
starts=(); rss=()
for i in $(seq 1 "$RUNS"); do
    rm -rf "$WORK/run"; mkdir -p "$WORK/run"
    SOCK=$WORK/run/berth.sock
    t0=$(now_ms)
    "$DIST/bin/berthd" --data-root "$WORK/run/data" --exec-root "$WORK/run/exec" -H "unix://$SOCK" \
        >"$WORK/run/log" 2>&1 &
    PID=$!
    until [ "$(curl -s --max-time 1 --unix-socket "$SOCK" http://berth/_ping 2>/dev/null)" = OK ]; do
        kill -0 "$PID" 2>/dev/null || { echo "berthd exited:"; cat "$WORK/run/log"; exit 1; }
        sleep 0.005
    done
    t1=$(now_ms)
    starts+=($((t1 - t0)))
    sleep 5   # let start-up work settle before reading idle memory
    rss+=($(awk '/VmRSS/ {print $2}' "/proc/$PID/status"))
    kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "java: $(${JAVA_HOME:+$JAVA_HOME/bin/}java -version 2>&1 | head -1)"
echo "cold start to _ping OK (ms): ${starts[*]}  median $(median "${starts[@]}")"
echo "idle RSS after 5 s (KiB):    ${rss[*]}  median $(median "${rss[@]}")"
