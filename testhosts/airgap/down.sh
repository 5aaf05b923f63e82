#!/bin/bash
# Removes the air-gapped test host NAME (only a container up.sh made: it carries the label provision.airgap=1).
set -euo pipefail
NAME=${1:?usage: down.sh NAME}
if [ "$(podman inspect --format '{{index .Config.Labels "provision.airgap"}}' "$NAME" 2>/dev/null || true)" = 1 ]; then
  podman rm -f -t 5 "$NAME" >/dev/null
fi
