#!/bin/sh
# Shape: a server set up before the standard, by hand: podman from Debian with its recommends and used once,
# an /etc/containers/storage.conf and a registries.conf from that setup, a rootless user with a subordinate
# range of its own, and a hand-written docker wrapper. Runs as root inside a fresh trixie test host.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq podman >/dev/null
mkdir -p /etc/containers
cat > /etc/containers/storage.conf <<'CONF'
# Set up by hand, from the vendor file: vfs, since overlay did not work here.
[storage]
driver = "vfs"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"

[storage.options]
additionalimagestores = [
]
CONF
cat > /etc/containers/registries.conf <<'CONF'
# Set up by hand: only Docker Hub for short names.
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"

[[registry]]
prefix = "docker.io"
location = "docker.io"
CONF
# useradd gave alice the next free range; the old setup moved it.
useradd -m -s /bin/bash alice
sed -i 's/^alice:.*/alice:300000:65536/' /etc/subuid /etc/subgid
cat > /usr/local/bin/docker <<'WRAPPER'
#!/bin/sh
# docker -> podman, by hand
exec /usr/bin/podman "$@"
WRAPPER
chmod 755 /usr/local/bin/docker
# podman used once: its database and an empty vfs store under the old graphroot.
PODMAN_IGNORE_CGROUPSV1_WARNING=1 podman info >/dev/null
