#!/usr/bin/env bash
# Benchmark (not a test): applyDiff of a ~200 MB layer (20 random 10 MB files
# + 2,000 small files) into each storage driver, side by side with GNU tar -x
# of the same tar into the same filesystem. Prints the median of RUNS runs of
# each and the ratio driver / tar. Needs root (mounts, a loop btrfs).
# Usage: itests/bench/apply-diff.sh [RUNS]     (after mvn install -DskipTests)
# Cleans up everything it made (mounts, loop device, files), also when interrupted.
set -euo pipefail
RUNS=${1:-5}
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d /var/tmp/berth-apply-bench.XXXXXX)
LOOP=""
cleanup() {
    mountpoint -q "$WORK/btrfs" 2>/dev/null && umount "$WORK/btrfs"
    [ -n "$LOOP" ] && losetup -d "$LOOP"
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

echo "making the layer..."
mkdir -p "$WORK/src/big" "$WORK/src/small"
for i in $(seq 1 20); do head -c 10M /dev/urandom > "$WORK/src/big/file$i"; done
for i in $(seq 1 2000); do head -c $((RANDOM % 4096 + 1)) /dev/urandom > "$WORK/src/small/f$i"; done
tar -C "$WORK/src" -cf "$WORK/layer.tar" .
rm -rf "$WORK/src"
echo "layer: $(du -h "$WORK/layer.tar" | cut -f1)"

truncate -s 2G "$WORK/btrfs.img"
LOOP=$(losetup --find --show "$WORK/btrfs.img")
mkfs.btrfs -q "$LOOP"
mkdir -p "$WORK/btrfs" && mount "$LOOP" "$WORK/btrfs"

CP=$(mvn -B -q -o -f itests/pom.xml dependency:build-classpath -Dmdep.outputFile=/dev/stdout -Dmdep.includeScope=test):itests/target/test-classes
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now_ms() { date +%s%3N; }

gnu_tar() { # DIR -> prints one time per run
    for i in $(seq 1 "$RUNS"); do
        mkdir -p "$1/tar$i"; sync
        t0=$(now_ms); tar -C "$1/tar$i" -xf "$WORK/layer.tar"; t1=$(now_ms)
        echo $((t1 - t0)); rm -rf "$1/tar$i"
    done
}

report() { # DRIVER FS_DIR
    local driver=$1 dir=$2
    mkdir -p "$dir/root"; sync
    local ours theirs
    ours=$(java -cp "$CP" io.berth.itests.bench.ApplyDiffBenchmark "$driver" "$dir/root" "$WORK/layer.tar" "$RUNS" \
        | awk '{print $3}' | median)
    theirs=$(gnu_tar "$dir" | median)
    rm -rf "$dir/root"
    awk -v d="$driver" -v o="$ours" -v t="$theirs" \
        'BEGIN {printf "%-9s apply-diff %6d ms   GNU tar -x %6d ms   ratio %.2f\n", d, o, t, o / t}'
}

echo "median of $RUNS runs each (filesystem: $(df -T "$WORK" | awk 'NR==2 {print $2}') for vfs/overlay2, btrfs on a loop device)"
report vfs "$WORK/ext"
report overlay2 "$WORK/ext"
report btrfs "$WORK/btrfs"
