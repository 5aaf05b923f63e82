#!/bin/bash
# The light option: a private sshd on 127.0.0.1:PORT for fast transport tests, with no containers. Its own host
# key, key-only logins for the current user (and, as root, for any user: become tests create their own users),
# and a known_hosts file holding exactly its key. Usage: sshd-up.sh [PORT]     (default 22200)
# Writes $PROVISION_TESTHOSTS_DIR/sshd/{inventory.yml,known_hosts,...}; prints the inventory path.
# Stop it with sshd-down.sh. Needs openssh-server (apt-get install openssh-server).
set -euo pipefail
PORT=${1:-22200}
STATE=${PROVISION_TESTHOSTS_DIR:-/var/tmp/provision-testhosts}
DIR=$STATE/sshd
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || { echo "sshd is missing: apt-get install openssh-server" >&2; exit 1; }
"$(dirname "$0")/sshd-down.sh" >/dev/null
mkdir -p "$DIR"
chmod 755 "$STATE" "$DIR" 2>/dev/null || true
[ -f "$DIR/host_key" ] || ssh-keygen -q -t ed25519 -N '' -C provision-sshd-host -f "$DIR/host_key"
[ -f "$DIR/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C provision-sshd-client -f "$DIR/id_ed25519"
install -m 644 "$DIR/id_ed25519.pub" "$DIR/authorized_keys"
echo "[127.0.0.1]:$PORT $(cat "$DIR/host_key.pub")" > "$DIR/known_hosts"
cat > "$DIR/sshd_config" <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $DIR/host_key
AuthorizedKeysFile $DIR/authorized_keys
PidFile $DIR/sshd.pid
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
# The scratch folder may sit under a world-writable /tmp; the keys are ours anyway.
StrictModes no
# Without PAM, sshd refuses accounts whose password is locked with '!': give test users '*' instead.
UsePAM no
PrintMotd no
CONF
[ "$(id -u)" != 0 ] || mkdir -p /run/sshd
"$SSHD" -f "$DIR/sshd_config" -E "$DIR/sshd.log"
for _ in $(seq 50); do [ -s "$DIR/sshd.pid" ] && break; sleep 0.1; done
[ -s "$DIR/sshd.pid" ] || { cat "$DIR/sshd.log" >&2; exit 1; }
cat > "$DIR/inventory.yml" <<INV
all:
  hosts:
    sshd:
      ansible_host: 127.0.0.1
      ansible_port: $PORT
      ansible_user: $(id -un)
      ansible_ssh_private_key_file: $DIR/id_ed25519
      ansible_ssh_common_args: -F /dev/null -o UserKnownHostsFile=$DIR/known_hosts -o IdentitiesOnly=yes
INV
ssh -F /dev/null -o BatchMode=yes -o UserKnownHostsFile="$DIR/known_hosts" -o IdentitiesOnly=yes -i "$DIR/id_ed25519" \
  -p "$PORT" "$(id -un)@127.0.0.1" true </dev/null || { echo "cannot log in to the private sshd" >&2; exit 1; }
echo "$DIR/inventory.yml"
