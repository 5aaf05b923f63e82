#!/bin/bash
# Starts N test hosts (systemd + sshd in podman containers named provision-thPORT) on 127.0.0.1 ports and writes an inventory whose
# known_hosts file holds the keys the hosts made at boot, collected with ssh-keyscan: host keys are checked.
# Usage: fleet-up.sh N [VARIANT]        VARIANT: bookworm (default) | trixie | trixie-podman
# Environment: PROVISION_TESTHOSTS_DIR (state: keys, known_hosts, inventory; default /var/tmp/provision-testhosts),
#   PROVISION_TESTHOSTS_PORT (first port, default 22201), PROVISION_TESTHOSTS_MODE (plain | nested: lets podman
#   run inside the hosts, for quadlet and container tests; needs the trixie-podman variant).
# Prints the inventory path. Hosts already up are restarted. Stop them with fleet-down.sh.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
N=${1:?usage: fleet-up.sh N [VARIANT]}
VARIANT=${2:-bookworm}
STATE=${PROVISION_TESTHOSTS_DIR:-/var/tmp/provision-testhosts}
BASE_PORT=${PROVISION_TESTHOSTS_PORT:-22201}
MODE=${PROVISION_TESTHOSTS_MODE:-plain}
IMAGE=localhost/provision-testhost-$VARIANT:latest
case $N in ''|*[!0-9]*) echo "N must be a number" >&2; exit 2 ;; esac
[ "$MODE" = plain ] || [ "$MODE" = nested ] || { echo "PROVISION_TESTHOSTS_MODE must be plain or nested" >&2; exit 2; }
for tool in podman ssh ssh-keygen ssh-keyscan; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install podman runc openssh-client" >&2; exit 1; }
done

"$HERE/build-image.sh" "$VARIANT" >/dev/null
mkdir -p "$STATE"
chmod 700 "$STATE"
KEY=$STATE/id_ed25519
[ -f "$KEY" ] || ssh-keygen -q -t ed25519 -N '' -C provision-testhosts -f "$KEY"
install -m 644 "$KEY.pub" "$STATE/authorized_keys"

# Only our containers: the names this script recorded, and only if they carry our label.
"$HERE/fleet-down.sh" >/dev/null

# Flags from the shared recipe: runc and cgroupfs (systemd is not PID 1 here, cgroups are hybrid), the unified
# hierarchy mounted for the container's systemd. Never --privileged, never a bind mount of /sys/fs/cgroup.
COMMON=(--runtime runc --cgroup-manager=cgroupfs)
: > "$STATE/fleet"
for i in $(seq 1 "$N"); do
  # Named by port, so fleets in different state folders (and ports) can run side by side.
  port=$((BASE_PORT + i - 1)) name=provision-th$((BASE_PORT + i - 1))
  run=(run -d --name "$name" --hostname "th$i" --label provision.testhost=1 --systemd=always
       -v /sys/fs/cgroup/unified:/sys/fs/cgroup/unified:rw -p "127.0.0.1:$port:22"
       -v "$STATE/authorized_keys:/root/.ssh/authorized_keys:ro"
       -v "$STATE/authorized_keys:/home/tester/.ssh/authorized_keys:ro")
  if [ "$MODE" = nested ]; then
    # shellcheck disable=SC2054  # the commas belong to --cap-add and the tmpfs paths
    run+=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096
          --tmpfs /sys/fs/cgroup/perf_event:ro,size=4k --tmpfs /sys/fs/cgroup/hugetlb:ro,size=4k
          --tmpfs '/sys/fs/cgroup/net_cls,net_prio:ro,size=4k' --tmpfs '/sys/fs/cgroup/cpu,cpuacct:ro,size=4k'
          --cap-add SYS_ADMIN,NET_ADMIN,NET_RAW,MKNOD,SYS_RESOURCE
          --security-opt seccomp=unconfined --security-opt systempaths=unconfined
          --device /dev/fuse --device /dev/net/tun)
  else
    run+=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
  fi
  podman "${COMMON[@]}" "${run[@]}" "$IMAGE" /sbin/init >/dev/null
  # A passed device keeps this machine's mode (0600 here); a real host's /dev/net/tun is 0666, which
  # rootless podman's network (pasta) needs.
  [ "$MODE" = nested ] && podman exec "$name" chmod 666 /dev/net/tun
  echo "th$i $port $name" >> "$STATE/fleet"
done

# Host keys exist once sshd answers; record them as found (ssh-keyscan writes [127.0.0.1]:PORT names).
: > "$STATE/known_hosts"
while read -r _ port name; do
  deadline=$((SECONDS + 90))
  until keys=$(ssh-keyscan -T 2 -p "$port" 127.0.0.1 2>/dev/null) && [ -n "$keys" ]; do
    if [ $SECONDS -ge $deadline ]; then
      echo "$name did not start sshd on port $port; podman logs $name:" >&2
      podman logs --tail 30 "$name" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
  echo "$keys" >> "$STATE/known_hosts"
done < "$STATE/fleet"
chmod 644 "$STATE/known_hosts"

SSH_ARGS="-o UserKnownHostsFile=$STATE/known_hosts -o IdentitiesOnly=yes"
{
  echo "all:"
  echo "  vars:"
  echo "    ansible_user: root"
  echo "    ansible_ssh_private_key_file: $KEY"
  echo "    ansible_ssh_common_args: $SSH_ARGS"
  echo "  hosts:"
  while read -r host port _; do
    echo "    $host:"
    echo "      ansible_host: 127.0.0.1"
    echo "      ansible_port: $port"
  done < "$STATE/fleet"
} > "$STATE/inventory.yml"
{
  echo "[testhosts]"
  while read -r host port _; do echo "$host ansible_host=127.0.0.1 ansible_port=$port"; done < "$STATE/fleet"
  echo
  echo "[testhosts:vars]"
  echo "ansible_user=root"
  echo "ansible_ssh_private_key_file=$KEY"
  echo "ansible_ssh_common_args='$SSH_ARGS'"
} > "$STATE/inventory.ini"

# Every host must take a real, checked login before we say it is up.
while read -r _ port name; do
  ssh -o BatchMode=yes -o UserKnownHostsFile="$STATE/known_hosts" -o IdentitiesOnly=yes -i "$KEY" -p "$port" \
    root@127.0.0.1 'systemctl is-system-running --wait >/dev/null 2>&1; true' </dev/null \
    || { echo "cannot log in to $name on port $port" >&2; exit 1; }
done < "$STATE/fleet"
echo "$STATE/inventory.yml"
