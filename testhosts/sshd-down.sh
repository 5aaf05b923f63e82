#!/bin/bash
# Stops the private sshd that sshd-up.sh started, by the pid it recorded. Usage: sshd-down.sh
set -euo pipefail
DIR=${PROVISION_TESTHOSTS_DIR:-/var/tmp/provision-testhosts}/sshd
[ -s "$DIR/sshd.pid" ] || exit 0
pid=$(cat "$DIR/sshd.pid")
# Only if that pid is still an sshd running our config.
if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-f $DIR/sshd_config"; then
  kill "$pid"
  echo "stopped sshd $pid"
fi
rm -f "$DIR/sshd.pid"
