#!/bin/bash
# Starts an AIR-GAPPED test host: a Debian trixie container with systemd as PID 1 and podman 5 installed (the
# trixie-podman image: OS packages are not bundled yet, so the host has them, as a site's base image would), run
# with `--network none`: its network namespace has only a loopback interface, no route, no DNS, no sshd port.
# It is reached with `podman exec` and `podman cp`, as a USB stick reaches such a machine.
# Usage: up.sh NAME        (prints NAME once systemd is up; a host of that name is replaced)
# Stop it with `podman rm -f NAME` (down.sh NAME). Nested podman works with fleet-up.sh's nested settings.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
NAME=${1:?usage: up.sh NAME}
IMAGE=localhost/provision-testhost-trixie-podman:latest
"$HERE/build-image.sh" trixie-podman >/dev/null
"$(dirname "$0")/down.sh" "$NAME"
# shellcheck disable=SC2054  # the commas belong to --cap-add and the tmpfs paths
podman --runtime runc --cgroup-manager=cgroupfs run -d --name "$NAME" --hostname airgap --network none \
  --label provision.testhost=1 --label provision.airgap=1 --systemd=always \
  -v /sys/fs/cgroup/unified:/sys/fs/cgroup/unified:rw \
  --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 \
  --tmpfs /sys/fs/cgroup/perf_event:ro,size=4k --tmpfs /sys/fs/cgroup/hugetlb:ro,size=4k \
  --tmpfs '/sys/fs/cgroup/net_cls,net_prio:ro,size=4k' --tmpfs '/sys/fs/cgroup/cpu,cpuacct:ro,size=4k' \
  --cap-add SYS_ADMIN,NET_ADMIN,NET_RAW,MKNOD,SYS_RESOURCE \
  --security-opt seccomp=unconfined --security-opt systempaths=unconfined \
  --device /dev/fuse --device /dev/net/tun "$IMAGE" /sbin/init >/dev/null
podman exec "$NAME" chmod 666 /dev/net/tun
podman exec "$NAME" sh -c 'systemctl is-system-running --wait >/dev/null 2>&1; true'
echo "$NAME"
