#!/bin/sh
# Shape: podman preinstalled as `apt-get install --no-install-recommends podman` leaves it (issue 9 §4): no
# containers-storage package, so no storage.conf anywhere; podman itself runs on its built-in defaults.
# Runs as root inside a fresh trixie test host (over ssh, from the tests).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends podman >/dev/null
for f in /etc/containers/storage.conf /usr/share/containers/storage.conf; do
  if [ -e "$f" ]; then echo "shape: $f exists" >&2; exit 1; fi
done
