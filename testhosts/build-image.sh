#!/bin/bash
# Builds the test-host image localhost/provision-testhost-VARIANT:latest: Debian with systemd as PID 1,
# sshd (fresh host keys at each boot), sudo, and a "tester" user with passwordless sudo. No key is baked in:
# fleet-up.sh mounts the authorized keys, so one cached image serves any client key.
# Usage: build-image.sh [VARIANT] [--rebuild]     VARIANT: bookworm (default) | trixie | trixie-podman
# An existing image is kept (the build takes 1-3 minutes); --rebuild makes it anew.
# Needs root, debootstrap and podman (apt-get install debootstrap podman runc).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VARIANT=bookworm REBUILD=0
for arg in "$@"; do
  case $arg in
    --rebuild) REBUILD=1 ;;
    -*) echo "usage: $0 [bookworm|trixie|trixie-podman] [--rebuild]" >&2; exit 2 ;;
    *) VARIANT=$arg ;;
  esac
done
IMAGE=localhost/provision-testhost-$VARIANT:latest
STATE=${PROVISION_TESTHOSTS_DIR:-/var/tmp/provision-testhosts}
mkdir -p "$STATE"
# One build at a time; a second caller waits, then finds the image.
exec 9>"$STATE/build-$VARIANT.lock"
flock 9
if [ "$REBUILD" = 0 ] && podman image exists "$IMAGE"; then
  echo "$IMAGE is already built"
  exit 0
fi
for tool in debootstrap podman; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install debootstrap podman runc" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "building the image needs root (debootstrap, chroot)" >&2; exit 1; }

# The Debian mirror this machine already uses (read, never written).
MIRROR=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$MIRROR" ] || MIRROR=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian
BASE=systemd,systemd-sysv,libpam-systemd,dbus,dbus-user-session,openssh-server,sudo,python3
case $VARIANT in
  bookworm) SUITE=bookworm INCLUDE=$BASE ;;
  trixie) SUITE=trixie INCLUDE=$BASE ;;
  trixie-podman) SUITE=trixie INCLUDE=$BASE,podman,crun,conmon,netavark,aardvark-dns,iptables,nftables,uidmap,passt,fuse-overlayfs,catatonit ;;
  *) echo "unknown variant $VARIANT" >&2; exit 2 ;;
esac

ROOTFS=$STATE/rootfs-$VARIANT
cleanup() { mountpoint -q "$ROOTFS/proc" 2>/dev/null && umount "$ROOTFS/proc"; rm -rf "$ROOTFS" "$STATE/testhost-$VARIANT.tar"; }
trap cleanup EXIT
cleanup
echo "debootstrap $SUITE from $MIRROR (log: $STATE/debootstrap-$VARIANT.log)"
debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$ROOTFS" "$MIRROR" >"$STATE/debootstrap-$VARIANT.log" 2>&1 \
  || { tail -20 "$STATE/debootstrap-$VARIANT.log" >&2; exit 1; }
"$HERE/customize-rootfs.sh" "$ROOTFS"
tar --numeric-owner --xattrs -C "$ROOTFS" -cf "$STATE/testhost-$VARIANT.tar" .
podman rmi -i "$IMAGE" >/dev/null 2>&1 || true
podman import -q --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL=SIGRTMIN+3' --change 'ENV container=podman' \
  --change 'LABEL provision.testhost=1' "$STATE/testhost-$VARIANT.tar" "$IMAGE" >/dev/null
echo "built $IMAGE"
