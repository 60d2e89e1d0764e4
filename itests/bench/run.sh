#!/usr/bin/env bash
# berth against dockerd, side by side, on this machine, in one run (issue 8).
#
# Usage: itests/bench/run.sh [--smoke] [--runs N] [SCENARIO...]      (as root)
#   Scenarios (default: all, in this order):
#     run         docker run --rm --network none IMAGE true
#     parallel50  50 x docker run -d --network none IMAGE sleep, all at once (wall time)
#     bridge20    20 x docker run -d IMAGE sleep on the default bridge, all at once
#     ps50        docker ps -a with 50 containers
#     port        throughput of a published port: curl of a 200 MB file from busybox httpd via 127.0.0.1:PORT
#     pull, push  a ~200 MB image (20 random 10 MB files in 4 layers + 2,000 small files) from/to a local
#                 Debian docker-registry
#     server      berth's registry server against docker-registry, skopeo pushing and pulling that image
#     start       daemon start until /_ping answers
#     rss         idle resident memory: berth's JVM against dockerd + containerd
#     apply       unpacking that image's layer tar: berth's overlay2 applyDiff against GNU tar -x
#     upgrade     while a client loops API calls and 10 containers run: berth has a newer jar of each subsystem
#                 bundle dropped into deploy/ in turn; dockerd is restarted with live-restore. Failed calls,
#                 container restarts, and call latency (p50/p99) meanwhile.
#   --runs N      counted runs per scenario, alternating berth and dockerd (default 5, at least 5), after a warm-up
#   --smoke       every scenario once, at tiny sizes (5 containers, a 2 MB image): proves the harness works; part
#                 of the README's test command. Its table goes to stdout only.
#
# Builds the distribution if it is not built, installs docker.io, docker-registry and skopeo if missing, starts
# dockerd and berthd with their own data-root, exec-root, socket and bridge (never a system Docker or berth), and
# stops both and removes everything it created, also when interrupted. Output: a Markdown table on stdout and, for
# a full run of every scenario, in itests/bench/results/latest.md.
set -euo pipefail
SMOKE=no
RUNS=5
CHOSEN=()
while [ $# -gt 0 ]; do
    case $1 in
        --smoke) SMOKE=yes ;;
        --runs) RUNS=${2:?--runs takes a number}; shift ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) CHOSEN+=("$1") ;;
    esac
    shift
done
ALL=(run parallel50 bridge20 ps50 port pull push server start rss apply upgrade)
[ ${#CHOSEN[@]} -gt 0 ] || CHOSEN=("${ALL[@]}")
for s in "${CHOSEN[@]}"; do
    [[ " ${ALL[*]} " == *" $s "* ]] || { echo "run.sh: unknown scenario '$s'; scenarios: ${ALL[*]}" >&2; exit 2; }
done
[[ $RUNS =~ ^[0-9]+$ ]] && { [ "$SMOKE" = yes ] || [ "$RUNS" -ge 5 ]; } \
    || { echo "run.sh: --runs takes a number of at least 5 (medians, never a single run)" >&2; exit 2; }
chosen() { [[ " ${CHOSEN[*]} " == *" $1 "* ]]; }
if [ "$SMOKE" = yes ]; then
    RUNS=1 MANY=5 BRIDGED=3 RUNNING=2 BIG_FILE=1M BIG_FILES=1 SMALL_FILES=50 SETTLE=1 SERVED=2
else
    MANY=50 BRIDGED=20 RUNNING=10 BIG_FILE=10M BIG_FILES=5 SMALL_FILES=2000 SETTLE=5 SERVED=200
fi
[ "$(id -u)" = 0 ] || { echo "run.sh: run it as root (it starts container engines)" >&2; exit 2; }

cd "$(dirname "$0")/../.."
ROOT=$PWD
DIST=$ROOT/distribution/berth/target/berth
if [ ! -x "$DIST/bin/berthd" ] || { chosen apply && [ ! -d itests/target/test-classes ]; }; then
    echo "building berth..."
    mvn -B -q -o install -DskipTests >/dev/null 2>&1 || mvn -B -q install -DskipTests
fi
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker-registry >/dev/null || missing+=(docker-registry)
command -v skopeo >/dev/null || missing+=(skopeo)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}..."
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
DOCKER=${DOCKER:-$(command -v docker)}

# --- cleanup: only what this script made, by PID and by name -------------------------------------------------
WORK=$(mktemp -d /var/tmp/berth-bench.XXXXXX)
PIDS=()
had_docker0=$(ip link show docker0 >/dev/null 2>&1 && echo yes || echo no)
cleanup() {
    set +e
    for sock in "$WORK"/*.sock; do
        [ -S "$sock" ] || continue
        ids=$(DOCKER_HOST=unix://$sock "$DOCKER" ps -aq 2>/dev/null)
        [ -z "$ids" ] || DOCKER_HOST=unix://$sock "$DOCKER" rm -f $ids >/dev/null 2>&1
    done
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" 2>/dev/null; fi
    done
    # Containers outlive a daemon by design (berth's conmon, dockerd's live-restore shims): end any left.
    for pid in $(pgrep -f "$WORK" 2>/dev/null); do [ "$pid" != $$ ] && kill -9 "$pid" 2>/dev/null; done
    { grep -o " $WORK[^ ]*" /proc/mounts; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
    rm -f "$DIST"/deploy/*-bench.jar "$DIST"/deploy/*-bench.jar.tmp
    ip link delete bbench0 2>/dev/null
    nft delete table ip berth_bbench0 2>/dev/null # the bench daemon's own (a bridge other than berth0 has its own table)
    [ "$had_docker0" = yes ] || ip link delete docker0 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }
wait_for() { for _ in $(seq 1 600); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "timed out: $*" >&2; return 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
timed() { local t0; t0=$(now_ms); "$@" >/dev/null; echo $(( $(now_ms) - t0 )); }

# --- the engines -------------------------------------------------------------------------------------------
BSOCK=$WORK/berth.sock
DSOCK=$WORK/docker.sock
start_berth() { # DIR SOCK BRIDGE (its pid in LAST_PID)
    mkdir -p "$1"
    echo "{\"storage-driver\":\"overlay2\",\"bridge\":\"$3\"}" > "$1/daemon.json"
    "$DIST/bin/berthd" --config-file "$1/daemon.json" --data-root "$1/data" --exec-root "$1/exec" \
        -H "unix://$2" >"$1/log" 2>&1 &
    LAST_PID=$!; PIDS+=("$LAST_PID")
}
start_dockerd() { # DIR SOCK [FLAGS...]
    local dir=$1 sock=$2; shift 2
    mkdir -p "$dir"
    dockerd --data-root "$dir/data" --exec-root "$dir/exec" -H "unix://$sock" --pidfile "$dir/pid" \
        --iptables=false --ip6tables=false --storage-driver overlay2 "$@" >"$dir/log" 2>&1 &
    LAST_PID=$!; PIDS+=("$LAST_PID")
}
b() { DOCKER_HOST=unix://$BSOCK "$DOCKER" "$@"; }
d() { DOCKER_HOST=unix://$DSOCK "$DOCKER" "$@"; }
berth() { "$DIST/bin/berth-shell" -H "unix://$BSOCK" -c "$*"; }

echo "starting berthd and dockerd..."
start_berth "$WORK/berth" "$BSOCK" bbench0
start_dockerd "$WORK/docker" "$DSOCK" --live-restore; DOCKERD_PID=$LAST_PID
wait_for b version || { cat "$WORK/berth/log"; exit 1; }
wait_for d version || { cat "$WORK/docker/log"; exit 1; }

# The small image: busybox-static with the applets the scenarios use.
mkdir -p "$WORK/rootfs/bin" "$WORK/rootfs/etc"
cp /bin/busybox "$WORK/rootfs/bin/"
for a in sh true sleep httpd; do ln -s busybox "$WORK/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$WORK/rootfs/etc/passwd"
tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .
b import "$WORK/rootfs.tar" bench/busybox:1 >/dev/null
d import "$WORK/rootfs.tar" bench/busybox:1 >/dev/null
IMAGE=bench/busybox:1

# --- results ----------------------------------------------------------------------------------------------
ROWS=()
stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%d %d-%d", a[int((NR+1)/2)], a[1], a[NR]}'; }
row() { # NAME UNIT TARGET "berth values" "other values" [OTHER NAME]
    local bm br om or
    read -r bm br <<<"$(stats $4)"; read -r om or <<<"$(stats $5)"
    ROWS+=("$(awk -v n="$1" -v u="$2" -v t="$3" -v bm="$bm" -v br="$br" -v om="$om" -v or="$or" -v o="${6:-dockerd}" \
        'BEGIN {printf "| %s | %d %s | %d %s (%s) | %s | %s | %s | %s |", n, bm, u, om, u, o, om ? sprintf("%.2f", bm / om) : "-", t, br, or}')")
    echo "  ${ROWS[-1]}"
}
# Alternates berth and dockerd RUNS times after one warm-up each (none in smoke mode).
# SCENARIO_FN ENGINE prints one figure; collected in B and D.
alternate() {
    B=(); D=()
    if [ "$SMOKE" = no ]; then "$1" b >/dev/null; "$1" d >/dev/null; fi
    for i in $(seq 1 "$RUNS"); do B+=("$("$1" b)"); D+=("$("$1" d)"); echo "  $1 $i: berth ${B[-1]}, dockerd ${D[-1]}"; done
}
remove_all() { local ids; ids=$($1 ps -aq); [ -z "$ids" ] || $1 rm -f $ids >/dev/null; }

# --- run, parallel, ps -------------------------------------------------------------------------------------
sc_run() { timed "$1" run --rm --network none "$IMAGE" true; }
started_at_once() { # ENGINE COUNT NETWORK -> ms until every run -d returned
    local t0 pids=() p failed=0
    t0=$(now_ms)
    for _ in $(seq 1 "$2"); do $1 run -d --network "$3" "$IMAGE" sleep 600 >/dev/null & pids+=($!); done
    for p in "${pids[@]}"; do wait "$p" || failed=1; done
    echo $(( $(now_ms) - t0 ))
    remove_all "$1"
    [ $failed = 0 ] || { echo "a run -d failed on $1" >&2; return 1; }
}
sc_parallel50() { started_at_once "$1" "$MANY" none; }
sc_bridge20() { started_at_once "$1" "$BRIDGED" bridge; }
sc_ps50() { timed "$1" ps -a; }

if chosen run; then echo "run --rm"; alternate sc_run; row "run --rm IMAGE true" ms "<= 0.25x" "${B[*]}" "${D[*]}"; fi
if chosen parallel50; then
    echo "$MANY x run -d at once"; alternate sc_parallel50
    row "$MANY x run -d --network none, all at once" ms "<= 0.3x" "${B[*]}" "${D[*]}"
fi
if chosen bridge20; then
    echo "$BRIDGED x run -d on the bridge"; alternate sc_bridge20
    row "$BRIDGED x run -d on the default bridge, all at once" ms "" "${B[*]}" "${D[*]}"
fi
if chosen ps50; then
    for _ in $(seq 1 "$MANY"); do b create --network none "$IMAGE" true >/dev/null; d create --network none "$IMAGE" true >/dev/null; done
    echo "ps -a"; alternate sc_ps50; row "ps -a with $MANY containers" ms "<= 1.0x" "${B[*]}" "${D[*]}"
    remove_all b; remove_all d
fi

# --- a published port ----------------------------------------------------------------------------------------
sc_port() { # ENGINE -> MB/s of one curl of the served file through 127.0.0.1:PORT
    local port ms
    port=$(free_port)
    $1 run -d --name web -p "127.0.0.1:$port:80" -v "$WORK/www:/www" "$IMAGE" httpd -f -p 80 -h /www >/dev/null
    wait_for curl -sf -o /dev/null "http://127.0.0.1:$port/served"
    ms=$(timed curl -sf -o /dev/null "http://127.0.0.1:$port/served")
    $1 rm -f web >/dev/null
    awk -v ms="$ms" -v mb="$SERVED" 'BEGIN {printf "%d", mb * 1048576 / 1000000 / ((ms > 0 ? ms : 1) / 1000)}'
}
if chosen port; then
    mkdir -p "$WORK/www" && head -c "${SERVED}M" /dev/urandom > "$WORK/www/served"
    echo "published port"; alternate sc_port
    row "published port: curl of $SERVED MB via 127.0.0.1 (MB/s, higher is better)" MB/s ">= 1x" "${B[*]}" "${D[*]}"
fi

# --- the big image, registries -----------------------------------------------------------------------------
if chosen pull || chosen push || chosen server || chosen apply; then
    echo "making the image ($((4 * BIG_FILES)) x $BIG_FILE random files + $SMALL_FILES small files)..."
    mkdir -p "$WORK/image"
    for l in 1 2 3 4; do
        mkdir -p "$WORK/src$l/big$l"
        for i in $(seq 1 "$BIG_FILES"); do head -c "$BIG_FILE" /dev/urandom > "$WORK/src$l/big$l/file$i"; done
        tar -C "$WORK/src$l" -cf "$WORK/image/layer$l.tar" . && rm -rf "$WORK/src$l"
    done
    mkdir -p "$WORK/src5/small"
    for i in $(seq 1 "$SMALL_FILES"); do head -c $((RANDOM % 4096 + 1)) /dev/urandom > "$WORK/src5/small/f$i"; done
    tar -C "$WORK/src5" -cf "$WORK/image/layer5.tar" . && rm -rf "$WORK/src5"
    # One layer tar of all of it, for the apply scenario.
    mkdir -p "$WORK/all" && for l in 1 2 3 4 5; do tar -C "$WORK/all" -xf "$WORK/image/layer$l.tar"; done
    tar -C "$WORK/all" -cf "$WORK/layer.tar" . && rm -rf "$WORK/all"
    python3 - "$WORK/image" <<'EOF'
import hashlib, json, os, sys
d = sys.argv[1]
diff_ids, layers = [], []
for l in range(1, 6):
    name = f"layer{l}.tar"
    h = hashlib.sha256(open(os.path.join(d, name), "rb").read()).hexdigest()
    diff_ids.append("sha256:" + h); layers.append(name)
config = json.dumps({"architecture": "amd64", "os": "linux", "created": "2026-11-22T00:00:00Z",
                     "config": {"Cmd": ["/bin/sh"]}, "rootfs": {"type": "layers", "diff_ids": diff_ids},
                     "history": [{"created": "2026-11-22T00:00:00Z", "created_by": f"layer {i}"} for i in range(1, 6)]},
                    separators=(",", ":")).encode()
cname = hashlib.sha256(config).hexdigest() + ".json"
open(os.path.join(d, cname), "wb").write(config)
json.dump([{"Config": cname, "RepoTags": ["bench/big:1"], "Layers": layers}], open(os.path.join(d, "manifest.json"), "w"))
EOF
    tar -C "$WORK/image" -cf "$WORK/image.tar" . && rm -rf "$WORK/image"
    # The same image with gzip layers as an OCI layout: what skopeo pushes to the registries.
    skopeo copy -q --dest-compress docker-archive:"$WORK/image.tar" oci:"$WORK/oci:big" >/dev/null
    IMAGE_SIZE=$(du -h "$WORK/image.tar" | cut -f1)
fi

REG_PID=""
start_registry() { # PORT
    mkdir -p "$WORK/registry"
    cat > "$WORK/registry/config.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $WORK/registry/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$1}
EOF
    docker-registry serve "$WORK/registry/config.yml" >"$WORK/registry/log" 2>&1 &
    REG_PID=$!; PIDS+=("$REG_PID")
    wait_for curl -sf "http://127.0.0.1:$1/v2/"
}
stop_registry() { kill "$REG_PID"; wait "$REG_PID" 2>/dev/null || true; rm -rf "$WORK/registry"; }
PORT=$(free_port)
TARGET=127.0.0.1:$PORT/bench/big:1

# Each push starts from a freshly loaded image and an empty registry; each pull from an empty store and a
# registry that holds the image (pushed there by skopeo, so both engines pull the same gzip blobs).
sc_push() {
    $1 rmi -f "$TARGET" bench/big:1 >/dev/null 2>&1 || true
    $1 load -q -i "$WORK/image.tar" >/dev/null && $1 tag bench/big:1 "$TARGET"
    start_registry "$PORT"
    timed "$1" push -q "$TARGET"
    stop_registry
}
sc_pull() {
    $1 rmi -f "$TARGET" bench/big:1 >/dev/null 2>&1 || true
    timed "$1" pull -q "$TARGET"
}
if chosen pull; then
    start_registry "$PORT"
    skopeo copy -q --dest-tls-verify=false oci:"$WORK/oci:big" "docker://$TARGET" >/dev/null
    echo "pull"; alternate sc_pull; row "pull $IMAGE_SIZE, 5 layers, from docker-registry" ms "<= 0.7x" "${B[*]}" "${D[*]}"
    stop_registry
    b rmi -f "$TARGET" >/dev/null; d rmi -f "$TARGET" >/dev/null
fi
if chosen push; then
    echo "push"; alternate sc_push; row "push $IMAGE_SIZE, 5 layers, to docker-registry" ms "<= 0.5x" "${B[*]}" "${D[*]}"
    b rmi -f "$TARGET" bench/big:1 >/dev/null; d rmi -f "$TARGET" bench/big:1 >/dev/null
fi

# skopeo against one server: push the gzip layout, pull it back into a fresh layout.
skopeo_roundtrip() { # PORT -> "push_ms pull_ms"
    local t0 t1 t2
    t0=$(now_ms)
    skopeo copy -q --dest-tls-verify=false oci:"$WORK/oci:big" "docker://127.0.0.1:$1/bench/big:1" >/dev/null
    t1=$(now_ms)
    skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$1/bench/big:1" oci:"$WORK/pulled:big" >/dev/null
    t2=$(now_ms); rm -rf "$WORK/pulled"
    echo "$((t1 - t0)) $((t2 - t1))"
}
SERVER_PORT=$(free_port)   # berth's registry server
OTHER_PORT=$(free_port)    # docker-registry: not the same port, berth's server still listens on its own
sc_server() { # b: berth's registry server, d: docker-registry
    if [ "$1" = b ]; then
        berth "berth:registry-stop" >/dev/null 2>&1 || true
        rm -rf "$WORK/berth-registry"
        berth "berth:registry-start --port $SERVER_PORT --root $WORK/berth-registry" >/dev/null
        wait_for curl -sf "http://127.0.0.1:$SERVER_PORT/v2/"
        skopeo_roundtrip "$SERVER_PORT"
    else
        start_registry "$OTHER_PORT"; skopeo_roundtrip "$OTHER_PORT"; stop_registry
    fi
}
if chosen server; then
    echo "registry servers"
    alternate sc_server
    berth "berth:registry-stop" >/dev/null 2>&1 || true
    row "skopeo push to the registry server" ms ">= 1x throughput (<= 1.0x)" "$(printf '%s\n' "${B[@]}" | cut -d' ' -f1)" \
        "$(printf '%s\n' "${D[@]}" | cut -d' ' -f1)" docker-registry
    row "skopeo pull from the registry server" ms ">= 1x throughput (<= 1.0x)" "$(printf '%s\n' "${B[@]}" | cut -d' ' -f2)" \
        "$(printf '%s\n' "${D[@]}" | cut -d' ' -f2)" docker-registry
fi

# --- start, idle memory ------------------------------------------------------------------------------------
rss_kib() { # PID... -> the sum of their VmRSS
    local total=0 pid
    for pid in "$@"; do total=$(( total + $(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0) )); done
    echo "$total"
}
START_N=0
sc_start() { # a fresh daemon on a fresh data-root, until /_ping answers; then idle RSS -> "ms kib"
    START_N=$((START_N + 1))
    local dir=$WORK/start$START_N sock=$WORK/start$START_N.sock t0 ms pids
    t0=$(now_ms)
    if [ "$1" = b ]; then start_berth "$dir" "$sock" none; else start_dockerd "$dir" "$sock" --bridge none; fi
    until [ "$(curl -s --max-time 1 --unix-socket "$sock" http://engine/_ping 2>/dev/null)" = OK ]; do
        kill -0 "$LAST_PID" 2>/dev/null || { cat "$dir/log" >&2; return 1; }
        sleep 0.005
    done
    ms=$(( $(now_ms) - t0 ))
    sleep "$SETTLE" # start-up work settles before the idle memory is read
    pids=("$LAST_PID" $(pgrep -P "$LAST_PID" || true)) # dockerd's containerd is its child
    echo "$ms $(rss_kib "${pids[@]}")"
    kill "$LAST_PID"; wait "$LAST_PID" 2>/dev/null || true
    rm -rf "$dir"
}
if chosen start || chosen rss; then
    echo "start and idle memory"
    alternate sc_start
    if chosen start; then
        row "daemon start to /_ping" ms "<= 1.0x" "$(printf '%s\n' "${B[@]}" | cut -d' ' -f1)" "$(printf '%s\n' "${D[@]}" | cut -d' ' -f1)"
    fi
    if chosen rss; then
        row "idle RSS (berthd JVM; dockerd + containerd)" KiB "<= 100 MiB" "$(printf '%s\n' "${B[@]}" | cut -d' ' -f2)" \
            "$(printf '%s\n' "${D[@]}" | cut -d' ' -f2)"
    fi
fi

# --- layer apply -------------------------------------------------------------------------------------------
if chosen apply; then
    echo "layer apply"
    CP=$(mvn -B -q -o -f itests/pom.xml dependency:build-classpath -Dmdep.outputFile=/dev/stdout -Dmdep.includeScope=test):itests/target/test-classes
    mkdir -p "$WORK/apply"
    sc_apply() { # b: berth's overlay2 applyDiff, d: GNU tar -x, into the same filesystem
        local ms
        if [ "$1" = b ]; then
            java -cp "$CP" io.berth.itests.bench.ApplyDiffBenchmark overlay2 "$WORK/apply/root" "$WORK/layer.tar" 1 \
                | awk '{print $3}'
            rm -rf "$WORK/apply/root"
        else
            mkdir -p "$WORK/apply/tar"; sync
            ms=$(timed tar -C "$WORK/apply/tar" -xf "$WORK/layer.tar")
            rm -rf "$WORK/apply/tar"; echo "$ms"
        fi
    }
    alternate sc_apply
    row "unpack the image's files as one layer ($IMAGE_SIZE)" ms "" "${B[*]}" "${D[*]}" "GNU tar -x"
fi

# --- live upgrade ------------------------------------------------------------------------------------------
# The client: curl GET /containers/json in a loop, one line per call: "HTTP-CODE SECONDS" (000: no answer).
start_client() { # SOCK LOG
    ( while [ ! -e "$WORK/stop-client" ]; do
          curl -s -o /dev/null --max-time 30 -w '%{http_code} %{time_total}\n' --unix-socket "$1" http://engine/containers/json
      done ) >"$2" 2>/dev/null &
    CLIENT_PID=$!; PIDS+=("$CLIENT_PID")
}
stop_client() { touch "$WORK/stop-client"; wait "$CLIENT_PID" 2>/dev/null || true; rm -f "$WORK/stop-client"; }
started_ats() { $1 inspect --format '{{.Id}} {{.State.Running}} {{.State.StartedAt}} {{.RestartCount}}' $($1 ps -aq) | sort; }
# A copy of a bundle jar with a newer Bundle-Version: what an operator drops into deploy/ to upgrade it.
newer_jar() { # JAR OUT
    python3 - "$1" "$2" <<'EOF'
import re, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
    for item in zin.infolist():
        data = zin.read(item.filename)
        if item.filename == "META-INF/MANIFEST.MF":
            text = data.decode("utf-8")
            text = re.sub(r"(?m)^Bundle-Version: .*$", "Bundle-Version: 99.0.0.bench", text)
            data = text.encode("utf-8")
        zout.writestr(item, data)
EOF
}
bundle_version() { # SYMBOLIC-NAME -> the version of the active bundle of that name
    berth "lb -s" 2>/dev/null | awk -F'|' -v n="$1" '$2 ~ /Active/ && $4 ~ n"[ (]" {print $4}' | grep -o '([^)]*)' | tr -d '()' | tail -1
}
latency() { # LOG -> "failed p50_ms p99_ms calls codes-of-the-failed"
    local failed calls
    failed=$(awk '$1 != "200"' "$1" | wc -l)
    calls=$(wc -l <"$1")
    awk '$1 == "200" {print $2 * 1000}' "$1" | sort -n | awk -v f="$failed" -v c="$calls" '{t[NR] = $1} END {
        i = int(NR * 0.99 + 0.999); if (i < 1) i = 1
        printf "%d %.1f %.1f %d ", f, NR ? t[int((NR + 1) / 2)] : 0, NR ? t[i] : 0, c }'
    awk '$1 != "200" {n[$1]++} END {for (c in n) printf "%s%s: %d", s++ ? ", " : "", c == "000" ? "no answer" : "HTTP " c, n[c]}' "$1"
}
if chosen upgrade; then
    echo "live upgrade"
    for _ in $(seq 1 "$RUNNING"); do b run -d --network none "$IMAGE" sleep 600 >/dev/null; d run -d --network none "$IMAGE" sleep 600 >/dev/null; done
    SUBSYSTEMS=(storage-overlayfs network-bridge runtime-oci containers registry-client registry-server engine-api)
    before=$(started_ats b)
    start_client "$BSOCK" "$WORK/berth-calls"
    sleep 1
    for s in "${SUBSYSTEMS[@]}"; do
        jar=$(ls "$DIST"/system/*/"$s"-*.jar)
        newer_jar "$jar" "$DIST/deploy/$s-bench.jar.tmp" && mv "$DIST/deploy/$s-bench.jar.tmp" "$DIST/deploy/$s-bench.jar"
        for _ in $(seq 1 600); do [ "$(bundle_version "io.berth.$s")" = 99.0.0.bench ] && break; sleep 0.1; done
        [ "$(bundle_version "io.berth.$s")" = 99.0.0.bench ] || { echo "io.berth.$s was not upgraded; berthd log:" >&2; tail -50 "$WORK/berth/log" >&2; exit 1; }
        echo "  io.berth.$s upgraded"
    done
    sleep 1
    stop_client
    rm -f "$DIST"/deploy/*-bench.jar # the system versions come back (and that is not measured)
    after=$(started_ats b)
    read -r bf bp50 bp99 bn bcodes <<<"$(latency "$WORK/berth-calls")"
    brestarts=$(diff <(echo "$before") <(echo "$after") | grep -c '^>' || true)

    before=$(started_ats d)
    start_client "$DSOCK" "$WORK/docker-calls"
    sleep 1
    kill "$DOCKERD_PID"; wait "$DOCKERD_PID" 2>/dev/null || true
    start_dockerd "$WORK/docker" "$DSOCK" --live-restore; DOCKERD_PID=$LAST_PID
    wait_for d version
    sleep 1
    stop_client
    after=$(started_ats d)
    read -r df dp50 dp99 dn dcodes <<<"$(latency "$WORK/docker-calls")"
    drestarts=$(diff <(echo "$before") <(echo "$after") | grep -c '^>' || true)
    ROWS+=("| upgrade: failed API calls (berth: ${#SUBSYSTEMS[@]} bundles swapped; dockerd: restarted with live-restore) | $bf of $bn${bcodes:+ ($bcodes)} | $df of $dn${dcodes:+ ($dcodes)} (dockerd) | - | 0 | | |")
    ROWS+=("| upgrade: containers restarted (of $RUNNING running) | $brestarts | $drestarts (dockerd) | - | 0 | | |")
    ROWS+=("| upgrade: API call latency p50 / p99 meanwhile | $bp50 / $bp99 ms | $dp50 / $dp99 ms (dockerd) | - | p99 <= 250 ms | | |")
    printf '  %s\n' "${ROWS[@]: -3}"
    remove_all b; remove_all d
fi

# --- the table ---------------------------------------------------------------------------------------------
{
    echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, kernel $(uname -r), $(java -version 2>&1 | head -1), $(dockerd --version)"
    echo "Client: docker $("$DOCKER" version --format '{{.Client.Version}}' 2>/dev/null) for both engines; both on overlay2."
    echo "$( [ "$SMOKE" = yes ] && echo "SMOKE run: one run each at tiny sizes; the figures mean nothing." \
        || echo "Median of $RUNS alternating runs (berth, dockerd, ...) after one warm-up each; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg).")"
    echo
    echo "| scenario | berth median | other median | ratio | target | berth min-max | other min-max |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "dockerd runs with --iptables=false (not to touch the host's firewall): its published ports go through docker-proxy."
} > "$WORK/result.md"
echo
cat "$WORK/result.md"
if [ "$SMOKE" = no ] && [ ${#CHOSEN[@]} -eq ${#ALL[@]} ]; then
    mkdir -p itests/bench/results && cp "$WORK/result.md" itests/bench/results/latest.md
    echo "(written to itests/bench/results/latest.md)"
fi
