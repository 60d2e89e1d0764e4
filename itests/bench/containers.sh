#!/usr/bin/env bash
# Benchmark (not a test) for issue 5: `berth:run --rm IMAGE true` through the engine against the floor,
# `crun run` / `runc run` of an equivalent OCI bundle; and 50 containers started at once.
# berth is driven by berth-shell; a berth-shell call costs a JVM start the engine does not, so the runs
# happen inside ONE shell session (a Gogo `each` loop) and one no-op session's time is subtracted.
#
# Usage: itests/bench/containers.sh [RUNS]    (as root, after mvn package -DskipTests)
# Starts its own berthd (own data-root, exec-root, socket) and stops it (by PID); removes what it made.
set -euo pipefail
RUNS=${1:-20}
cd "$(dirname "$0")/../.."
DIST=$PWD/distribution/berth/target/berth
[ -x "$DIST/bin/berthd" ] || { echo "build first: mvn -B -o package -DskipTests" >&2; exit 1; }
WORK=$(mktemp -d /var/tmp/berth-containers-bench.XXXXXX)
PID=
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        remove_all || true
        kill "$PID"; wait "$PID" 2>/dev/null || true
    fi
    # Containers outlive their daemon by design: should any be left, end them (they are this script's).
    for conmon in $(pgrep -f "conmon .*$WORK" || true); do pkill -9 -P "$conmon" || true; done
    { grep -o " $WORK[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
now_ms() { date +%s%3N; }
berth() { "$DIST/bin/berth-shell" -H "unix://$WORK/berth.sock" -c "$*"; }
remove_all() { # every container of this daemon, running or not
    local ids
    ids=$(berth "berth:ps -aq --no-trunc")
    if [ -n "$ids" ]; then berth "berth:rm -f $(echo $ids)" >/dev/null; fi
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }

# The image: busybox-static with relative applet links.
mkdir -p "$WORK/rootfs/bin" "$WORK/rootfs/etc" "$WORK/rootfs/proc" "$WORK/rootfs/sys" "$WORK/rootfs/dev"
cp /bin/busybox "$WORK/rootfs/bin/"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$WORK/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$WORK/rootfs/etc/passwd"
tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .

"$DIST/bin/berthd" --data-root "$WORK/data" --exec-root "$WORK/exec" -H "unix://$WORK/berth.sock" >"$WORK/log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do curl -sf --unix-socket "$WORK/berth.sock" http://berth/_ping >/dev/null 2>&1 && break; sleep 0.1; done
berth "berth:import --change 'CMD [\"sh\"]' $WORK/rootfs.tar bench/busybox:1" >/dev/null
seq_list=$(seq -s ' ' 1 "$RUNS")

# One no-op session, and the run loop in one session (after a warm-up loop).
noop=(); for _ in 1 2 3 4 5; do t0=$(now_ms); berth "berth:info" >/dev/null; noop+=($(( $(now_ms) - t0 ))); done
berth "each [1 2 3 4 5] { berth:run --rm bench/busybox:1 true }" >/dev/null
loops=()
for _ in 1 2 3; do
    t0=$(now_ms); berth "each [$seq_list] { berth:run --rm bench/busybox:1 true }" >/dev/null; t1=$(now_ms)
    loops+=($(( (t1 - t0 - $(median "${noop[@]}")) / RUNS )))
done

# 50 started at once: 50 berth-shell clients in parallel (50 processes, so 50 sessions on the daemon, each
# served by its own API thread), each `run -d` (minus nothing: JVM starts included); and the engine's share of
# it, from the containers' own records: first Created to last State.StartedAt.
# Then 50 `run -d` in one session one after another.
t0=$(now_ms)
shells=()
for i in $(seq 1 50); do berth "berth:run -d --network none bench/busybox:1 sleep 300" >/dev/null & shells+=($!); done
wait "${shells[@]}"
parallel=$(( $(now_ms) - t0 ))
ms_of() { date -d "$1" +%s%3N; }
inspected=$(berth "berth:inspect $(echo $(berth "berth:ps -aq --no-trunc"))")
times_of() { grep -o "\"$1\" : \"[^\"]*\"" <<<"$inspected" | cut -d'"' -f4 | while read -r t; do ms_of "$t"; done | sort -n; }
first_created=$(times_of Created | head -1)
last_started=$(times_of StartedAt | tail -1)
running=$(grep -c '"Status" : "running"' <<<"$inspected" || true)
engine_parallel=$(( last_started - first_created ))
remove_all
t0=$(now_ms); berth "each [$(seq -s ' ' 1 50)] { berth:run -d --network none bench/busybox:1 sleep 300 }" >/dev/null
sequential=$(( $(now_ms) - t0 - $(median "${noop[@]}") ))
remove_all

# The floor: the same rootfs as an OCI bundle, `RUNTIME run` of `true` (crun through a private mount
# namespace without the cgroup v2 mount on a hybrid host, as berth runs it).
mkdir -p "$WORK/bundle"
(cd "$WORK/bundle" && crun spec >/dev/null \
    && sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"true"/; s|"path": "rootfs"|"path": "'"$WORK"'/rootfs"|' config.json)
floor() { # RUNTIME -> median ms of RUNS
    local times=() i
    for i in $(seq 1 "$RUNS"); do
        t0=$(now_ms)
        if [ "$1" = crun ] && [ -d /sys/fs/cgroup/unified ]; then
            unshare --mount --propagation private sh -c "umount -l /sys/fs/cgroup/unified; cd $WORK/bundle && crun --root $WORK/crun run b$i" >/dev/null
        else
            (cd "$WORK/bundle" && "$1" --root "$WORK/$1" run "b$i" >/dev/null)
        fi
        times+=($(( $(now_ms) - t0 )))
    done
    median "${times[@]}"
}
crun_floor=$(floor crun); runc_floor=$(floor runc)

REPORT=itests/bench/results/containers.md
{
echo "Machine: $(nproc) cores, kernel $(uname -r), $(java -version 2>&1 | head -1)"
echo
echo "| scenario | berth | floor |"
echo "|---|---|---|"
echo "| run --rm IMAGE true (per run, in one shell session; loops: ${loops[*]} ms) | $(median "${loops[@]}") ms | crun run $crun_floor ms, runc run $runc_floor ms |"
echo "| 50 x run -d, 50 berth-shell clients at once (JVM starts included) | $parallel ms | |"
echo "| the same 50, engine's share: first Created to last StartedAt ($running running) | $engine_parallel ms | |"
echo "| 50 x run -d, one after another in one session | $sequential ms ($(( sequential / 50 )) ms each) | |"
echo
echo "berth-shell no-op session: $(median "${noop[@]}") ms (subtracted where it says so)"
} | tee "$REPORT"
