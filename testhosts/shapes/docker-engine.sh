#!/bin/sh
# Shape: Docker Engine from Debian (docker.io, its CLI docker-cli), its daemon running, with a local image.
# The daemon cannot run containers in a nested test host (read-only cgroups), but it answers and keeps images.
# Runs as root inside a fresh trixie test host.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends docker.io docker-cli busybox-static >/dev/null
dir=$(mktemp -d)
mkdir -p "$dir/rootfs/bin"
cp /bin/busybox "$dir/rootfs/bin/"
tar -C "$dir/rootfs" -cf "$dir/bb.tar" .
docker import "$dir/bb.tar" localhost/docker-shape:1 >/dev/null
rm -rf "$dir"
systemctl is-active --quiet docker.service
