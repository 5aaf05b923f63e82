#!/bin/bash
# Stops and removes the test hosts fleet-up.sh started (the names it recorded, and only containers carrying
# its label), and forgets their host keys. Usage: fleet-down.sh
set -euo pipefail
STATE=${PROVISION_TESTHOSTS_DIR:-/var/tmp/provision-testhosts}
[ -f "$STATE/fleet" ] || exit 0
while read -r first _ name; do
  name=${name:-$first}   # files written before containers were named by port: "NAME PORT"
  if [ "$(podman inspect --format '{{index .Config.Labels "provision.testhost"}}' "$name" 2>/dev/null)" = 1 ]; then
    podman rm -f -t 5 "$name" >/dev/null
    echo "removed $name"
  fi
done < "$STATE/fleet"
rm -f "$STATE/fleet" "$STATE/known_hosts" "$STATE/inventory.yml" "$STATE/inventory.ini"
