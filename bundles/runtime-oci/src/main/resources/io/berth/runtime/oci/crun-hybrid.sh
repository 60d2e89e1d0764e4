#!/bin/sh
# crun refuses a cgroup v1 host whose v2 mount lists controllers ("hybrid"). In a private mount namespace
# without that mount it sees plain v1, so conmon runs this wrapper in crun's place. @CRUN@ is the real crun.
exec unshare --mount --propagation private /bin/sh -c 'umount -l /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"' '@CRUN@' "$@"
