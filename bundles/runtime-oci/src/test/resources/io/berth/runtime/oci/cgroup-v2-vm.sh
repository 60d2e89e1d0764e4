# Runs as the init's script in a VM of itests/vm/boot-vm.sh, for CgroupV2VmTest: a host with nothing but cgroup v2.
# Above this line the test sets BUNDLES, RUNTIMES, JAVA and CLASSPATH. BUNDLES/RUNTIME-KIND/config.json is berth's
# OciSpecWriter's bundle for the container id RUNTIME-KIND, whose rootfs is BUNDLES/rootfs. This script only
# collects: it prints "FACT name=value" lines, and the test judges them.
set -u
fact() { echo "FACT $1=$2"; }
# Waits (up to 60 s) until the command succeeds.
await() {
    i=0
    while ! "$@" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 600 ] || return 1; sleep 0.1
    done
}

# Keep kernel messages (the OOM killer's report) off the console, which carries the facts.
echo 1 > /proc/sys/kernel/printk
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
fact host.cgroup-mounts "$(awk '$3 ~ /^cgroup/ { printf "%s:%s ", $2, $3 }' /proc/mounts)"

# What the containers run: a view of their cgroup from inside, and a memory hog.
cat > "$BUNDLES/rootfs/view.sh" <<'EOF'
echo "VIEW proc-self-cgroup=$(cat /proc/self/cgroup)"
for file in memory.max memory.swap.max pids.max cpu.max cpu.weight; do
    echo "VIEW $file=$(cat /sys/fs/cgroup/$file)"
done
echo "VIEW procs=$(tr '\n' ' ' < /sys/fs/cgroup/cgroup.procs)"
echo "VIEW sees-host-berth=$(ls -d /sys/fs/cgroup/berth 2>/dev/null || echo no)"
mkdir /sys/fs/cgroup/child 2>/dev/null && echo "VIEW cgroupfs-writable=yes" || echo "VIEW cgroupfs-writable=no"
echo VIEW-END
exec sleep 600
EOF
cat > "$BUNDLES/rootfs/hog.sh" <<'EOF'
exec awk 'BEGIN { s = "x"; for (;;) s = s s }'
EOF

cgroup_gone() { # ID
    if [ -e "/sys/fs/cgroup/berth/$1" ]; then echo present; else echo gone; fi
}

for R in $RUNTIMES; do
    rt() { "/usr/bin/$R" --root "/run/$R" "$@"; }
    stopped() { rt state "$1" | grep -q '"status": *"stopped"'; }

    # 1. exit code: run in the foreground passes the container's status through
    id=$R-exit
    rt run --bundle "$BUNDLES/$id" "$id" < /dev/null > "/tmp/$id.out" 2>&1
    fact "$id.status" $?
    fact "$id.cgroup-after" "$(cgroup_gone "$id")"

    # 2. limits and the cgroup namespace, seen from inside and from the host; then delete
    id=$R-limits
    rt create --bundle "$BUNDLES/$id" "$id" < /dev/null > "/tmp/$id.out" 2>&1
    fact "$id.create" $?
    rt start "$id"
    fact "$id.start" $?
    await grep -q VIEW-END "/tmp/$id.out"
    sed -n "s/^VIEW /FACT $id.inside./p" "/tmp/$id.out"
    cgroup=/sys/fs/cgroup/berth/$id
    for file in memory.max pids.max cpu.max; do
        fact "$id.host.$file" "$(cat "$cgroup/$file")"
    done
    rt kill "$id" KILL
    await stopped "$id"
    rt delete "$id"
    fact "$id.delete" $?
    fact "$id.cgroup-after" "$(cgroup_gone "$id")"

    # 3. a memory hog under conmon, as berth runs containers: OOM-killed, and conmon says so
    id=$R-oom
    bundle=$BUNDLES/$id
    mkdir -p "$bundle/persist" "/run/exits-$R" "/run/sockets-$R"
    # conmon's monitor reports {"data": PID} on fd 3 once the runtime has created the container
    sync=$(_OCI_SYNCPIPE=3 /usr/bin/conmon --api-version 1 -c "$id" -u "$id" -n "$id" -r "/usr/bin/$R" \
        --runtime-arg --root --runtime-arg "/run/$R" -b "$bundle" -p "$bundle/pidfile" -P "$bundle/conmon.pid" \
        --exit-dir "/run/exits-$R" --persist-dir "$bundle/persist" --socket-dir-path "/run/sockets-$R" \
        -l "k8s-file:$bundle/log" 3>&1 > /dev/null 2> "$bundle/conmon.log" < /dev/null | head -n 1)
    fact "$id.sync" "$sync"
    rt start "$id"
    fact "$id.start" $?
    await test -s "/run/exits-$R/$id"
    fact "$id.exit-file" "$(cat "/run/exits-$R/$id")"
    fact "$id.persist-oom" "$(if [ -e "$bundle/persist/oom" ]; then echo yes; else echo no; fi)"
    # the kernel's count of OOM kills, and of OOM events, which is the one conmon watches
    for event in oom_kill oom; do
        fact "$id.memory.events.$event" "$(sed -n "s/^$event //p" "/sys/fs/cgroup/berth/$id/memory.events")"
    done
    rt delete "$id"
    fact "$id.delete" $?
    fact "$id.cgroup-after" "$(cgroup_gone "$id")"
    fact "$id.conmon-log" "$(tr '\n' ' ' < "$bundle/conmon.log")"
done

# 4. berth's own runtime driver (ConmonRuntime, as the component makes it), on the JVM: CgroupV2Guest
mkdir -p /run/berth-jvm
"$JAVA" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$CLASSPATH" io.berth.runtime.oci.CgroupV2Guest \
    /run/berth-jvm "$BUNDLES/rootfs" $RUNTIMES 2>&1
fact jvm.status $?
