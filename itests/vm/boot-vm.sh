#!/usr/bin/env bash
# Runs a shell script as root in a throwaway QEMU VM with Debian's own kernel, and prints its serial console.
# For tests that need a kernel or a host layout this machine lacks (a pure cgroup v2 host, device-mapper):
# the guest is its own host, with its own init, nothing shared with the machine and no network device.
#
# Usage: itests/vm/boot-vm.sh [-f GUEST_PATH=HOST_PATH]... [-j JAVA_HOME] [-k MODULE]... [-m MIB] [-t SECONDS]
#                            SCRIPT_FILE
#   -f  put HOST_PATH (a file, or a directory copied whole with its links) at GUEST_PATH; an executable or shared
#       library in it that is linked dynamically brings the libraries `ldd` lists for it, at their host paths
#   -j  put the JDK at JAVA_HOME at the same path: its bin, conf, lib and release (not jmods, which only compilers
#       need), and the directories its conf/ links point into (Debian's /etc/java-N-openjdk)
#   -k  load the kernel module MODULE (e.g. dm-thin-pool) before SCRIPT_FILE runs, after the modules it needs
#       (from the guest kernel's modules.dep); modules are loaded in the order given
#   -m  guest memory in MiB (default 1024)
#   -t  wall-clock limit of the whole VM in seconds (default 300); qemu is killed after it
# The guest boots from an initramfs: busybox-static with its applets, the files given and SCRIPT_FILE. Its init
# moves the root to a tmpfs (pivot_root, which container runtimes need, refuses the initramfs), mounts /proc,
# /sys, /dev and /dev/pts (no tmpfs over /tmp or /run: given files may be there), loads the -k modules, runs
# SCRIPT_FILE with sh, prints "BERTH-VM-EXIT <status>" and powers off. Nothing else is mounted: cgroups and
# the rest are the script's business.
#
# Exit status: the script's; 124 when the time ran out; 125 when the VM could not run (a missing package, no
# kernel) or ended without reporting. Needs qemu-system-x86, linux-image-amd64, busybox-static, cpio, xz-utils.
# The kernel is the newest /boot/vmlinuz-*, or $BERTH_VM_KERNEL. Only the qemu this script started is killed
# (by its -pidfile), and its temporary directory is removed.
set -euo pipefail

fail() { echo "boot-vm.sh: $*" >&2; exit 125; }

FILES=()
MODULES=()
MEMORY=1024
SECONDS_LIMIT=300
while getopts "f:j:k:m:t:" option; do
    case $option in
        f) [[ $OPTARG == /*=* ]] || fail "-f takes GUEST_PATH=HOST_PATH with an absolute GUEST_PATH, not '$OPTARG'"
           FILES+=("$OPTARG") ;;
        j) [ -x "$OPTARG/bin/java" ] || fail "-j takes a JDK's directory, and $OPTARG/bin/java is not there"
           for part in bin conf lib release; do FILES+=("$OPTARG/$part=$OPTARG/$part"); done
           while IFS= read -r link; do
               target=$(readlink -f "$link")
               case $target in
                   "$OPTARG"/*) ;;
                   /*/*/*) top=$(echo "$target" | cut -d/ -f1-3); FILES+=("$top=$top") ;;
               esac
           done < <(find "$OPTARG/conf" -type l) ;;
        k) MODULES+=("$OPTARG") ;;
        m) [[ $OPTARG =~ ^[0-9]+$ ]] || fail "-m takes a number of MiB, not '$OPTARG'"; MEMORY=$OPTARG ;;
        t) [[ $OPTARG =~ ^[0-9]+$ ]] || fail "-t takes a number of seconds, not '$OPTARG'"; SECONDS_LIMIT=$OPTARG ;;
        *) fail "usage: boot-vm.sh [-f GUEST_PATH=HOST_PATH]... [-j JAVA_HOME] [-k MODULE]... [-m MIB] [-t SECONDS] SCRIPT_FILE" ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || fail "usage: boot-vm.sh [-f GUEST_PATH=HOST_PATH]... [-j JAVA_HOME] [-k MODULE]... [-m MIB] [-t SECONDS] SCRIPT_FILE"
SCRIPT=$1
[ -f "$SCRIPT" ] || fail "no script file $SCRIPT"

need() { command -v "$1" >/dev/null || fail "$1 is missing: apt-get install $2"; }
need qemu-system-x86_64 qemu-system-x86
need cpio cpio
need xz xz-utils
need ldd libc-bin
# the guest's /bin/sh and every applet: it must be the static busybox, which needs no libraries
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || fail "no static /bin/busybox: apt-get install busybox-static"
KERNEL=${BERTH_VM_KERNEL:-$(ls -1v /boot/vmlinuz-* 2>/dev/null | tail -1)}
[ -n "$KERNEL" ] || fail "no kernel in /boot: apt-get install linux-image-amd64"
[ -f "$KERNEL" ] || fail "no kernel at $KERNEL"

WORK=$(mktemp -d /var/tmp/berth-vm.XXXXXX)
QEMU_PID=
cleanup() {
    local pid
    pid=$(cat "$WORK/qemu.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(command -v qemu-system-x86_64)" ]; then
        kill -9 "$pid" 2>/dev/null || true
    fi
    [ -z "$QEMU_PID" ] || wait "$QEMU_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# The kernel as an uncompressed ELF: qemu boots that directly (PVH) in a few seconds instead of ~12 s for the
# bzImage. Debian compresses it with xz: the payload starts at the first xz stream header.
offset=$(LC_ALL=C grep -obUaP '\xFD7zXZ\x00' "$KERNEL" | head -1 | cut -d: -f1)
[ -n "$offset" ] || fail "$KERNEL holds no xz-compressed kernel"
xz -dcq --single-stream < <(tail -c +$((offset + 1)) "$KERNEL") > "$WORK/vmlinux" \
    || fail "cannot unpack the kernel from $KERNEL"

ROOT=$WORK/root
mkdir -p "$ROOT"/{bin,dev,proc,sys,tmp,run,newroot}
cp /bin/busybox "$ROOT/bin/busybox"
for applet in $(/bin/busybox --list-full | grep -vx bin/busybox); do
    mkdir -p "$ROOT/$(dirname "$applet")"
    ln -sf /bin/busybox "$ROOT/$applet"
done

# Copies a host file or tree into the guest root, with the libraries of every dynamic executable in it.
put() { # GUEST_PATH HOST_PATH
    local guest=$1 host=$2 file library
    [ -e "$host" ] || fail "no such file: $host (for $guest)"
    mkdir -p "$ROOT$(dirname "$guest")"
    rm -rf "${ROOT:?}$guest"
    cp -aH "$host" "$ROOT$guest" # a link given is followed, links inside a directory are kept
    while IFS= read -r -d '' file; do
        # ldd names each library "name => /path (address)", the loader "/path (address)"
        for library in $(ldd "$file" 2>/dev/null | grep -o '/[^ ]* (0x' | cut -d' ' -f1 || true); do
            if [ ! -e "$ROOT$library" ]; then
                mkdir -p "$ROOT$(dirname "$library")"
                cp -L "$library" "$ROOT$library"
            fi
        done
    done < <(find -H "$host" -type f \( -perm -u+x -o -name '*.so' -o -name '*.so.*' \) -print0)
}
for file in ${FILES[@]+"${FILES[@]}"}; do
    put "${file%%=*}" "${file#*=}"
done

# Kernel modules, each after those it needs: modules.dep lists them all, the most basic last.
: > "$ROOT/load-modules"
if [ ${#MODULES[@]} -gt 0 ]; then
    MODULE_DIR=/lib/modules/$(basename "$KERNEL" | sed 's/^vmlinuz-//')
    [ -f "$MODULE_DIR/modules.dep" ] || fail "no $MODULE_DIR/modules.dep for the kernel $KERNEL"
    for module in "${MODULES[@]}"; do
        line=$(grep -E "(^|/)${module}\.ko:" "$MODULE_DIR/modules.dep" | head -1)
        [ -n "$line" ] || fail "the kernel $KERNEL has no module $module (an uncompressed $module.ko)"
        for file in $(echo ${line#*:} | tr ' ' '\n' | tac) "${line%%:*}"; do
            if ! grep -qx "$MODULE_DIR/$file" "$ROOT/load-modules"; then
                put "$MODULE_DIR/$file" "$MODULE_DIR/$file"
                echo "$MODULE_DIR/$file" >> "$ROOT/load-modules"
            fi
        done
    done
fi
cp "$SCRIPT" "$ROOT/vm-script"

cat > "$ROOT/init" <<'EOF'
#!/bin/busybox sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
if [ ! -e /.on-tmpfs ]; then
    # pid 1 on the initramfs: copy it to a tmpfs and make that the root
    mount -t tmpfs -o mode=0755 root /newroot
    for entry in /* /.[!.]*; do
        [ -e "$entry" ] && [ "$entry" != /newroot ] && cp -a "$entry" /newroot/
    done
    touch /newroot/.on-tmpfs
    exec switch_root /newroot /init
fi
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
for module in $(cat /load-modules); do
    insmod "$module" || echo "boot-vm.sh: cannot load $module"
done
cd /
sh /vm-script
echo "BERTH-VM-EXIT $?"
sync
reboot -f
EOF
chmod 755 "$ROOT/init" "$ROOT/vm-script"
(cd "$ROOT" && find . | cpio -o -H newc --quiet) > "$WORK/initramfs" || fail "cannot write the initramfs"

# TCG, not KVM: nested KVM is unusable on these machines (see shared/notes/dm-thin-in-qemu.md).
timeout --kill-after=5 "$SECONDS_LIMIT" qemu-system-x86_64 -machine q35 -accel tcg,thread=multi -cpu max \
    -smp 2 -m "$MEMORY" -kernel "$WORK/vmlinux" -initrd "$WORK/initramfs" \
    -append "console=ttyS0 panic=-1 quiet rdinit=/init" -nic none -display none -serial stdio -monitor none \
    -nodefaults -no-reboot -pidfile "$WORK/qemu.pid" < /dev/null > "$WORK/console" 2>&1 &
QEMU_PID=$!
status=0
wait "$QEMU_PID" || status=$?
QEMU_PID=
tr -d '\r' < "$WORK/console"
[ "$status" -ne 124 ] && [ "$status" -ne 137 ] || { echo "boot-vm.sh: the VM ran out of its ${SECONDS_LIMIT}s" >&2; exit 124; }
exit_line=$(tr -d '\r' < "$WORK/console" | grep -a '^BERTH-VM-EXIT [0-9]*$' | tail -1 || true)
[ -n "$exit_line" ] || fail "the VM ended (qemu status $status) without the script's exit status"
exit "${exit_line#BERTH-VM-EXIT }"
