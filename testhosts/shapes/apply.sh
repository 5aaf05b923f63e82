#!/bin/bash
# Gives hosts of a fleet their shapes (the scripts beside this one, run as root inside each host over ssh).
# Usage: apply.sh STATE_DIR [HOST-NUMBER...]   default: every host listed in standard-fleet, all at once.
# PROVISION_SHAPES_LIST names another list than standard-fleet (compose-fleet: the compose tests' hosts).
# A host takes one shape, once: the script runs under a lock and leaves /var/lib/provision-testhost-shape, so a
# second run (a test asking for its host while scripts/test.sh shapes it in the background) waits for the
# first and then does nothing.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
STATE=${1:?usage: apply.sh STATE_DIR [HOST-NUMBER...]}
shift
wanted=" $* "

# The command run in a host: lock, marker, the shape script in a subshell of its own, marker.
remote() {
  local marker=/var/lib/provision-testhost-shape
  echo "exec 9>/run/provision-testhost-shape.lock && flock 9 || exit 1"
  echo "if [ -f $marker ]; then [ \"\$(cat $marker)\" = $1 ] && exit 0"
  echo "  echo \"this host already has the shape \$(cat $marker)\" >&2; exit 1; fi"
  echo "("
  cat "$HERE/$1.sh"
  echo ") || exit 1"
  echo "echo $1 > $marker"
}

pids=()
while read -r number shape; do
  case $number in ''|'#'*) continue ;; esac
  [ "$wanted" = "  " ] || [[ $wanted == *" $number "* ]] || continue
  port=$(awk -v host="th$number" '$1 == host { print $2 }' "$STATE/fleet")
  if [ -z "$port" ]; then echo "no host th$number in $STATE/fleet" >&2; exit 1; fi
  ssh -o BatchMode=yes -o UserKnownHostsFile="$STATE/known_hosts" -o IdentitiesOnly=yes -i "$STATE/id_ed25519" \
    -p "$port" root@127.0.0.1 "$(remote "$shape")" </dev/null &
  pids+=($!)
done < "${PROVISION_SHAPES_LIST:-$HERE/standard-fleet}"
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
