#!/usr/bin/env bash
# Benchmark (not a test) for issue 4: push and pull of a ~200 MB image (20 random
# 10 MB files in 4 layers + 2,000 small files in a fifth) to and from a local
# Debian docker-registry, berth vs dockerd (Debian's docker.io, with its own
# data-root, exec-root and socket; no bridge, no iptables), and berth's registry
# server vs docker-registry with the same client (skopeo). Runs alternate
# (berth, docker, berth, docker, ...); prints the median and min-max of RUNS
# counted runs after one warm-up, and the ratios.
#
# Usage: itests/bench/registry.sh [RUNS]    (as root, after mvn package -DskipTests)
# SCENARIOS="pull push server" (the default: all) picks which ones run; the table gets their rows only,
# and only a run of all of them replaces itests/bench/results/registry.md.
# Installs docker.io, docker-registry and skopeo if missing. Stops every daemon it
# started (by PID) and removes everything it made, also when interrupted.
set -euo pipefail
RUNS=${1:-5}
SCENARIOS=${SCENARIOS:-pull push server}
runs() { [[ " $SCENARIOS " == *" $1 "* ]]; }
cd "$(dirname "$0")/../.."
DIST=$PWD/distribution/berth/target/berth
[ -x "$DIST/bin/berthd" ] || { echo "build first: mvn -B -o package -DskipTests" >&2; exit 1; }
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker-registry >/dev/null || missing+=(docker-registry)
command -v skopeo >/dev/null || missing+=(skopeo)
if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
DOCKER=${DOCKER:-/usr/local/bin/docker}

WORK=$(mktemp -d /var/tmp/berth-registry-bench.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" 2>/dev/null || true; fi
    done
    # dockerd leaves its overlay mounts behind only if it was killed; be sure nothing stays.
    { grep -o " $WORK[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

now_ms() { date +%s%3N; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # URL-or-command... waits up to 60 s
    for _ in $(seq 1 600); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "timed out waiting for: $*" >&2; return 1
}

# --- the image: a docker-archive with 5 layers -------------------------------------------------
echo "making the image..."
mkdir -p "$WORK/image"
for l in 1 2 3 4; do
    mkdir -p "$WORK/src$l/big$l"
    for i in $(seq 1 5); do head -c 10M /dev/urandom > "$WORK/src$l/big$l/file$i"; done
    tar -C "$WORK/src$l" -cf "$WORK/image/layer$l.tar" . && rm -rf "$WORK/src$l"
done
mkdir -p "$WORK/src5/small"
for i in $(seq 1 2000); do head -c $((RANDOM % 4096 + 1)) /dev/urandom > "$WORK/src5/small/f$i"; done
tar -C "$WORK/src5" -cf "$WORK/image/layer5.tar" . && rm -rf "$WORK/src5"
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
# The same image with gzip layers as an OCI layout: what skopeo pushes to the registry servers.
skopeo copy -q --dest-compress docker-archive:"$WORK/image.tar" oci:"$WORK/oci:big" >/dev/null
echo "image: $(du -h "$WORK/image.tar" | cut -f1) uncompressed, $(du -sh "$WORK/oci" | cut -f1) as gzip OCI layout"

# --- docker-registry ---------------------------------------------------------------------------
REG_PID=""
start_registry() { # DIR PORT
    mkdir -p "$1"
    cat > "$1/config.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $1/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$2}
EOF
    docker-registry serve "$1/config.yml" >"$1/log" 2>&1 &
    REG_PID=$!; PIDS+=("$REG_PID")
    wait_for curl -sf "http://127.0.0.1:$2/v2/"
}
stop_registry() {
    kill "$REG_PID"; wait "$REG_PID" 2>/dev/null || true; rm -rf "$WORK/registry"
}

# --- the engines ---------------------------------------------------------------------------------
BSOCK=$WORK/berth.sock
mkdir -p "$WORK/berth"
echo '{"storage-driver":"overlay2","bridge":"none"}' > "$WORK/berth/daemon.json"
"$DIST/bin/berthd" --config-file "$WORK/berth/daemon.json" --data-root "$WORK/berth/data" \
    --exec-root "$WORK/berth/exec" -H "unix://$BSOCK" >"$WORK/berth/log" 2>&1 &
PIDS+=($!)
wait_for curl -sf --unix-socket "$BSOCK" http://berth/_ping
berth() { "$DIST/bin/berth-shell" -H "unix://$BSOCK" -c "$*"; }
# Push and pull go through the same docker CLI for both engines (berth's Engine API since issue 7);
# CLIENT=shell measures through berth-shell instead, as before.
CLIENT=${CLIENT:-cli}
bdock() { DOCKER_HOST=unix://$BSOCK "$DOCKER" "$@"; }

DSOCK=$WORK/docker.sock
mkdir -p "$WORK/docker"
dockerd --data-root "$WORK/docker/data" --exec-root "$WORK/docker/exec" -H "unix://$DSOCK" \
    --pidfile "$WORK/docker/pid" --bridge none --iptables=false --ip6tables=false --storage-driver overlay2 \
    >"$WORK/docker/log" 2>&1 &
PIDS+=($!)
dock() { DOCKER_HOST=unix://$DSOCK "$DOCKER" "$@"; }
wait_for dock version

# --- scenarios -----------------------------------------------------------------------------------
# Each prints one time in ms. Untimed preparation first: both engines start each push from a
# freshly loaded image and an empty registry, each pull from an empty store and a registry
# that holds the image (pushed there by skopeo, so both pull the same gzip blobs).
PORT=$(free_port)
TARGET=127.0.0.1:$PORT/bench/big:1

berth_push() {
    berth "berth:rmi -f $TARGET" >/dev/null 2>&1 || true; berth "berth:rmi -f bench/big:1" >/dev/null 2>&1 || true
    berth "berth:load $WORK/image.tar" >/dev/null && berth "berth:tag bench/big:1 $TARGET" >/dev/null
    start_registry "$WORK/registry" "$PORT"
    if [ "$CLIENT" = cli ]; then
        t0=$(now_ms); bdock push -q "$TARGET" >/dev/null; t1=$(now_ms)
    else
        t0=$(now_ms); berth "berth:push $TARGET" >/dev/null; t1=$(now_ms)
    fi
    stop_registry; echo $((t1 - t0))
}
docker_push() {
    dock rmi -f "$TARGET" bench/big:1 >/dev/null 2>&1 || true
    dock load -q -i "$WORK/image.tar" >/dev/null && dock tag bench/big:1 "$TARGET"
    start_registry "$WORK/registry" "$PORT"
    t0=$(now_ms); dock push -q "$TARGET" >/dev/null; t1=$(now_ms)
    stop_registry; echo $((t1 - t0))
}
berth_pull() {
    berth "berth:rmi -f $TARGET" >/dev/null 2>&1 || true; berth "berth:rmi -f bench/big:1" >/dev/null 2>&1 || true
    if [ "$CLIENT" = cli ]; then
        t0=$(now_ms); bdock pull -q "$TARGET" >/dev/null; t1=$(now_ms)
    else
        t0=$(now_ms); berth "berth:pull $TARGET" >/dev/null; t1=$(now_ms)
    fi
    echo $((t1 - t0))
}
docker_pull() {
    dock rmi -f "$TARGET" bench/big:1 >/dev/null 2>&1 || true
    t0=$(now_ms); dock pull -q "$TARGET" >/dev/null; t1=$(now_ms)
    echo $((t1 - t0))
}
# skopeo against one server: push the gzip layout, pull it back into a fresh layout.
skopeo_roundtrip() { # PORT -> "push_ms pull_ms"
    local out=$WORK/pulled
    t0=$(now_ms)
    skopeo copy -q --dest-tls-verify=false oci:"$WORK/oci:big" docker://127.0.0.1:$1/bench/big:1 >/dev/null
    t1=$(now_ms)
    skopeo copy -q --src-tls-verify=false docker://127.0.0.1:$1/bench/big:1 oci:"$out:big" >/dev/null
    t2=$(now_ms); rm -rf "$out"
    echo "$((t1 - t0)) $((t2 - t1))"
}
BERTH_REG_PORT=$(free_port)
berth_server() {
    berth "berth:registry-stop" >/dev/null 2>&1 || true
    rm -rf "$WORK/berth-registry"
    berth "berth:registry-start --port $BERTH_REG_PORT --root $WORK/berth-registry" >/dev/null
    wait_for curl -sf "http://127.0.0.1:$BERTH_REG_PORT/v2/"
    skopeo_roundtrip "$BERTH_REG_PORT"
}
docker_registry_server() {
    local port; port=$(free_port)
    start_registry "$WORK/registry" "$port"; skopeo_roundtrip "$port"; stop_registry
}

stats() { # values... -> "median min-max"
    printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%d %d-%d", a[int((NR+1)/2)], a[1], a[NR]}'
}
row() { # NAME "berth values" "docker values" [berth client overhead ms]
    read -r bm br <<<"$(stats $2)"; read -r dm dr <<<"$(stats $3)"
    awk -v n="$1" -v bm="$bm" -v br="$br" -v dm="$dm" -v dr="$dr" -v o="${4:-0}" \
        'BEGIN {printf "| %s | %d ms (%s) | %d ms (%s) | %.2f | %.2f |\n", n, bm, br, dm, dr, bm / dm, (bm - o) / dm}'
}

bp=(); dp=(); bs=(); ds=(); sbp=(); sbl=(); sdp=(); sdl=()
if runs pull; then
    # The registry for the pulls, filled once by skopeo.
    start_registry "$WORK/registry" "$PORT"
    skopeo copy -q --dest-tls-verify=false oci:"$WORK/oci:big" "docker://$TARGET" >/dev/null
    echo "warm-up..."
    berth_pull >/dev/null; docker_pull >/dev/null
    for i in $(seq 1 "$RUNS"); do bp+=("$(berth_pull)"); dp+=("$(docker_pull)"); echo "pull $i: berth ${bp[-1]} ms, dockerd ${dp[-1]} ms"; done
    stop_registry
fi

if runs push; then
    berth_push >/dev/null; docker_push >/dev/null
    for i in $(seq 1 "$RUNS"); do bs+=("$(berth_push)"); ds+=("$(docker_push)"); echo "push $i: berth ${bs[-1]} ms, dockerd ${ds[-1]} ms"; done
fi

if runs server; then
    berth_server >/dev/null; docker_registry_server >/dev/null
    for i in $(seq 1 "$RUNS"); do
        read -r a b <<<"$(berth_server)"; sbp+=("$a"); sbl+=("$b")
        read -r a b <<<"$(docker_registry_server)"; sdp+=("$a"); sdl+=("$b")
        echo "skopeo $i: berth server push ${sbp[-1]}/pull ${sbl[-1]} ms, docker-registry push ${sdp[-1]}/pull ${sdl[-1]} ms"
    done
    berth "berth:registry-stop" >/dev/null 2>&1 || true
fi

# A berth-shell call costs a JVM start that the docker CLI does not pay; measured so it can be discounted.
shell=(); for i in $(seq 1 "$RUNS"); do t0=$(now_ms); berth "berth:info" >/dev/null; t1=$(now_ms); shell+=($((t1 - t0))); done
read -r shell_median _ <<<"$(stats "${shell[@]}")"

{
    echo "Machine: $(nproc) cores, kernel $(uname -r), $(java -version 2>&1 | head -1), $(dockerd --version)"
    echo "Image: 5 layers, $(du -h "$WORK/image.tar" | cut -f1); median of $RUNS runs after one warm-up (min-max)"
    echo
    echo "| scenario | berth | dockerd / docker-registry | ratio | ratio without berth-shell's start |"
    echo "|---|---|---|---|---|"
    overhead=$([ "$CLIENT" = cli ] && echo 0 || echo "$shell_median")
    if runs pull; then row "pull from docker-registry ($CLIENT)" "${bp[*]}" "${dp[*]}" "$overhead"; fi
    if runs push; then row "push to docker-registry ($CLIENT)" "${bs[*]}" "${ds[*]}" "$overhead"; fi
    if runs server; then
        row "skopeo push to the server" "${sbp[*]}" "${sdp[*]}"
        row "skopeo pull from the server" "${sbl[*]}" "${sdl[*]}"
    fi
    echo
    echo "Client for berth's push and pull: $CLIENT (cli: the same docker CLI as for dockerd; shell: berth-shell)."
    echo "berth-shell round trip for a no-op command (taken out in the last column when CLIENT=shell): $(stats "${shell[@]}") ms"
} | tee "$WORK/result.md"
if [ "$SCENARIOS" = "pull push server" ]; then
    mkdir -p itests/bench/results && cp "$WORK/result.md" itests/bench/results/registry.md
fi
