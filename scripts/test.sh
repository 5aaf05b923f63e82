#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine (as root), then runs `swift test`.
# The integration tests use the real podman, runc and PyYAML; CI sets
# PROVISION_REQUIRE_INTEGRATION=1 so that they fail instead of skipping when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
command -v newuidmap >/dev/null || need+=(uidmap)
[ -e /usr/share/containers/storage.conf ] || need+=(containers-storage)
[ -x /usr/bin/time ] || need+=(time)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v sudo >/dev/null || need+=(sudo)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v busybox >/dev/null || need+=(busybox)
[ -x /usr/bin/python3 ] || need+=(python3)
command -v strip >/dev/null || need+=(binutils)
# The builtin modules' tests: git, archives, each HTTP tool a host may have, a local apt repository, test keys.
for pair in git:git curl:curl wget:wget zip:zip unzip:unzip dpkg-scanpackages:dpkg-dev gpg:gnupg file:file; do
    command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "installing: ${need[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    else
        echo "not root: skipping the install of ${need[*]} (integration tests will skip)" >&2
    fi
fi
python3 -c 'import yaml' 2>/dev/null || python3 -m pip install -q pyyaml
# ansible-playbook is the reference the peer play's end state is compared with.
export PROVISION_ANSIBLE_VENV="${PROVISION_ANSIBLE_VENV:-/tmp/provision-ansible-venv}"
if [ ! -x "$PROVISION_ANSIBLE_VENV/bin/ansible-playbook" ]; then
    python3 -m venv "$PROVISION_ANSIBLE_VENV" && "$PROVISION_ANSIBLE_VENV/bin/pip" install -q 'ansible-core==2.19.14' \
        || echo "could not install ansible-core: the peer-play comparison will skip" >&2
fi

# The official Ollama Python client checks the Ollama stand-in's API (OllamaStandInTests; Debian's python3 builds its image).
export PROVISION_OLLAMA_CLIENT_VENV="${PROVISION_OLLAMA_CLIENT_VENV:-/tmp/provision-ollama-client-venv}"
if [ ! -x "$PROVISION_OLLAMA_CLIENT_VENV/bin/python" ] || ! "$PROVISION_OLLAMA_CLIENT_VENV/bin/python" -c 'import ollama' 2>/dev/null; then
    python3 -m venv "$PROVISION_OLLAMA_CLIENT_VENV" && "$PROVISION_OLLAMA_CLIENT_VENV/bin/pip" install -q 'ollama==0.6.3' \
        || echo "could not install the ollama client: the stand-in's client test will skip" >&2
fi

swift build
log=$(mktemp)
started=()
# The static release binary (swift build -c release --static-swift-stdlib, stripped) that AirGapContainerTests run
# on bare Debian 12 and 13 containers without Swift: built once, in its own build folder, while the test hosts
# start (about 5 minutes of 2 cores from nothing; PROVISION_STATIC_BINARY=PATH uses a prebuilt one instead).
static_log=$(mktemp)
static_pid=
if [ -z "${PROVISION_STATIC_BINARY:-}" ]; then
    ( swift build -c release --static-swift-stdlib --build-path .build-static >"$static_log" 2>&1 \
        && strip -o .build-static/provision-static .build-static/release/provision ) &
    static_pid=$!
fi
cleanup() {
    rm -f "$log" "$static_log"
    [ -n "$static_pid" ] && kill "$static_pid" 2>/dev/null
    for dir in "${started[@]}"; do PROVISION_TESTHOSTS_DIR="$dir" testhosts/fleet-down.sh >/dev/null 2>&1 || true; done
    testhosts/airgap/down.sh "${PROVISION_AIRGAP_HOST:-provision-airgap-ollama}" >/dev/null 2>&1 || true
}
trap cleanup EXIT
# fleet_up DIR PORT COUNT RELEASE WHAT: COUNT test hosts of RELEASE in DIR from PORT (trixie ones run podman
# nested), stopped on exit; when they cannot start, WHAT will skip.
fleet_up() {
    local mode=plain
    [ "$4" = trixie ] && mode=nested
    if PROVISION_TESTHOSTS_DIR="$1" PROVISION_TESTHOSTS_PORT=$2 PROVISION_TESTHOSTS_MODE=$mode testhosts/fleet-up.sh "$3" "$4" >/dev/null; then
        started+=("$1")
    else
        echo "could not start the test hosts in $1: $5 will skip" >&2
        return 1
    fi
}
# Real test hosts (systemd + sshd in podman containers on 127.0.0.1) for the ssh fleet tests.
if [ "$(id -u)" = 0 ] && command -v podman >/dev/null && command -v debootstrap >/dev/null; then
    # The air-gapped host's image (trixie with podman; AirGapHostTests starts the host itself with --network none
    # and removes it): built meanwhile; the test waits for the build (its lock) and fails if it failed.
    testhosts/build-image.sh trixie-podman >/var/tmp/provision-airgap-image.log 2>&1 &
    export PROVISION_AIRGAP_BUILD=1
    fleet_up "${PROVISION_TESTHOSTS_DIR:-/var/tmp/provision-testhosts}" "${PROVISION_TESTHOSTS_PORT:-22201}" 3 bookworm "the fleet tests" || true
    # Fresh Debian trixie hosts without podman, for the standard's playbooks (podman runs nested inside them):
    # two stay fresh, the tests give the other three the shapes of testhosts/shapes/.
    standard_dir=${PROVISION_STANDARD_HOSTS_DIR:-/var/tmp/provision-testhosts-standard}
    standard_port=${PROVISION_STANDARD_HOSTS_PORT:-22301}
    export PROVISION_STANDARD_HOSTS_DIR=$standard_dir PROVISION_STANDARD_HOSTS_PORT=$standard_port
    if fleet_up "$standard_dir" "$standard_port" 5 trixie "the standard playbook tests"; then
        # The shapes (apt inside the hosts) are made meanwhile; each test waits for its own host's.
        testhosts/shapes/apply.sh "$standard_dir" >"$standard_dir/shapes.log" 2>&1 &
    fi
    # One more trixie host for the services' tests (quadlet, image, container; a registry runs inside it).
    export PROVISION_SERVICES_HOSTS_DIR=${PROVISION_SERVICES_HOSTS_DIR:-/var/tmp/provision-testhosts-services}
    fleet_up "$PROVISION_SERVICES_HOSTS_DIR" 22351 1 trixie "the quadlet, image and container host tests" || true
    # A fresh trixie host for playbooks/ollama.yml (OllamaHostTests: the Ollama stand-in's servers, nested podman).
    export PROVISION_OLLAMA_HOSTS_DIR=${PROVISION_OLLAMA_HOSTS_DIR:-/var/tmp/provision-testhosts-ollama}
    fleet_up "$PROVISION_OLLAMA_HOSTS_DIR" 22361 1 trixie "the ollama.yml host tests" || true
    # Two trixie hosts for the compose tests: a podman host for the chat app, a Docker Engine host to migrate (shaped meanwhile).
    export PROVISION_COMPOSE_HOSTS_DIR=${PROVISION_COMPOSE_HOSTS_DIR:-/var/tmp/provision-testhosts-compose}
    if fleet_up "$PROVISION_COMPOSE_HOSTS_DIR" 22371 2 trixie "the compose host tests"; then
        PROVISION_SHAPES_LIST=testhosts/shapes/compose-fleet testhosts/shapes/apply.sh "$PROVISION_COMPOSE_HOSTS_DIR" \
            >"$PROVISION_COMPOSE_HOSTS_DIR/shapes.log" 2>&1 &
    fi
fi
if [ -n "$static_pid" ]; then
    if wait "$static_pid"; then
        export PROVISION_STATIC_BINARY=$PWD/.build-static/provision-static
        echo "static binary: $PROVISION_STATIC_BINARY ($(stat -c %s "$PROVISION_STATIC_BINARY") bytes stripped)"
    else
        echo "the static release build failed: AirGapContainerTests will skip (fail under PROVISION_REQUIRE_INTEGRATION=1)" >&2
        tail -n 20 "$static_log" >&2
    fi
    static_pid=
fi
set +e
swift test 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# XCTest's totals as the closing line (swift test itself ends with Swift Testing's "0 tests").
totals=$(grep -E 'Executed [0-9]+ tests?, with' "$log" | tail -n 1)
total=$(echo "$totals" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
failed=$(echo "$totals" | sed -E 's/.* ([0-9]+) failures?.*/\1/')
skipped=$(echo "$totals" | sed -nE 's/.* ([0-9]+) tests? skipped.*/\1/p')
skipped=${skipped:-0}
if [ -n "$total" ]; then
    echo "tests: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
fi
exit "$status"
