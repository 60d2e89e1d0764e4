# The guest side of DeviceMapperVm (which prepends JAVA, CLASSPATH, MAIN and ARGS; the harness has loaded
# device-mapper, dm-thin, loop and the filesystems): runs MAIN on the host's JVM and reports with FACT lines
# what it left behind: no device-mapper device and no loop device may remain.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
echo "FACT dm-version=$(dmsetup version 2>&1 | tr '\n' ' ')"
cd /tmp || exit 1
"$JAVA" -Xmx384m -Djdk.lang.Process.launchMechanism=VFORK -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.io.tmpdir=/tmp -cp "$CLASSPATH" \
    "$MAIN" $ARGS
status=$?
echo "FACT runner-status=$status"
echo "FACT devices-left=$(DM_DISABLE_UDEV=1 dmsetup ls 2>&1 | tr '\n' ' ')"
echo "FACT loops-left=$(losetup -a | wc -l)"
exit $status
