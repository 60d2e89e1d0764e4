#!/usr/bin/env bash
# Benchmark (not a test): devicemapper against vfs in the same QEMU VM (this host's kernel has no
# device-mapper). A chain of 16 layers, each 3 MB of its own files, built as a pull builds it: per layer,
# create it on its parent (a thin snapshot; vfs copies the parent whole) and apply its diff. Both drivers
# keep their data in the guest's memory (vfs on its tmpfs, devicemapper's pool on loop files there), so
# the figures compare the drivers, not disks. Prints the median and the first and last layer of each.
# Usage: itests/bench/devicemapper.sh      (needs what DeviceMapperVmTest needs; about 3 minutes)
# The VM is bounded by its own time limit and removed afterwards, as in the tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -B -o -q verify -pl storage-drivers/devicemapper -am -Dtest=DeviceMapperVmBenchmark \
    -Dsurefire.failIfNoSpecifiedTests=false
RESULTS=storage-drivers/devicemapper/target/devicemapper-bench.txt
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-13s %8s %8s %8s   %8s %8s\n' driver "create" "(first" "last)" "apply" "(last)"
for driver in devicemapper vfs; do
    create=$(awk -v d=$driver '$2 == d {print $4}' "$RESULTS" | median)
    apply=$(awk -v d=$driver '$2 == d {print $5}' "$RESULTS" | median)
    first=$(awk -v d=$driver '$2 == d && $3 == 0 {print $4}' "$RESULTS")
    last_create=$(awk -v d=$driver '$2 == d {c = $4} END {print c}' "$RESULTS")
    last_apply=$(awk -v d=$driver '$2 == d {a = $5} END {print a}' "$RESULTS")
    printf '%-13s %6s ms %6s ms %6s ms   %6s ms %6s ms\n' "$driver" "$create" "$first" "$last_create" "$apply" "$last_apply"
done
echo "(median of the layers; per-layer figures in $RESULTS)"
