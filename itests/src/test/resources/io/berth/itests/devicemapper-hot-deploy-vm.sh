# The guest side of DeviceMapperHotDeployVmIT (which prepends DIST and JAVA_HOME; the harness has loaded
# device-mapper, dm-thin, loop and ext4): the full distribution's daemon starts without the devicemapper bundle,
# then a pool's .cfg and the bundle are dropped into deploy/, and the running daemon moves its image there
# (containers are not run: the guest sets up no cgroups).
# Reports with FACT lines; the test judges them.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export JAVA_HOME
fact() { echo "FACT $1=$2"; }
R=/tmp/hot
mkdir -p "$R/rootfs/bin"
jar=$(ls "$DIST"/system/20/storage-devicemapper-*.jar)
mv "$jar" "$R/devicemapper.jar"
printf '{"bridge": "none", "storage-driver": "vfs"}\n' > "$R/daemon.json"
BERTH_CDS=off "$DIST/bin/berthd" --data-root "$R/data" --exec-root "$R/exec" -H "unix://$R/berth.sock" \
    --config-file "$R/daemon.json" > "$R/berthd.log" 2>&1 &
pid=$!
shell() { "$DIST/bin/berth-shell" -H "unix://$R/berth.sock" -c "$1" 2>&1; }
i=0
until [ -S "$R/berth.sock" ] && shell 'berth:info' > /dev/null; do
    i=$((i + 1)); [ $i -lt 120 ] || break; sleep 1
done
fact devicemapper-before "$(shell 'berth:drivers' | grep -c devicemapper)"
cp /bin/busybox "$R/rootfs/bin/busybox"
tar -C "$R/rootfs" -cf "$R/rootfs.tar" .
fact import "$(shell "berth:import $R/rootfs.tar hot:1" | tail -1)"
# the pool's configuration, then the bundle: FileInstall installs and starts both while the daemon runs
printf 'dm.loopback=true\ndm.loopdatasize=512M\ndm.loopmetadatasize=16M\ndm.basesize=64M\n' \
    > "$DIST/deploy/io.berth.storage.devicemapper.cfg"
cp "$R/devicemapper.jar" "$DIST/deploy/storage-devicemapper.jar"
i=0
until shell 'berth:drivers' | grep -q 'devicemapper.*ACTIVE'; do
    i=$((i + 1)); [ $i -lt 60 ] || break; sleep 1
done
fact devicemapper-after "$(shell 'berth:drivers' | grep devicemapper | tr -s ' ')"
fact use "$(shell 'berth:storage-use devicemapper' | tail -1)"
fact migrate "$(shell 'berth:storage-migrate devicemapper' | tail -1)"
fact layers "$(shell 'berth:layers' | tr -s ' ' | tr '\n' '|')"
fact same-daemon "$(kill -0 $pid 2>/dev/null && echo yes)"
fact pool "$(DM_DISABLE_UDEV=1 dmsetup ls | grep -c -- '-pool')"
kill -TERM $pid; wait $pid
fact daemon-exit "$?"
# what a stopped daemon leaves on purpose (mounts, the pool, its loop devices): gone with the VM, removed anyway
for mount in $(grep " $R/" /proc/self/mountinfo | cut -d' ' -f5 | sort -r); do umount "$mount"; done
DM_DISABLE_UDEV=1 dmsetup remove_all
losetup -D
grep -i -E 'exception|error' "$R/berthd.log" | head -5 | sed 's/^/berthd.log: /'
