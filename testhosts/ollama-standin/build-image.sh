#!/bin/bash
# Builds the Ollama STAND-IN image localhost/ollama-standin:VERSION (not Ollama: see README.md), its `podman save`
# archive, and the default synthetic model store, all under $PROVISION_OLLAMA_STANDIN_DIR
# (default /var/tmp/provision-ollama-standin):
#   ollama-standin-VERSION.tar (+ .sha256)   the archive a playbook's ollama_image_archive loads on a host
#   models/                                  the default models, also baked into the image for its registry
# Usage: build-image.sh [--rebuild]
# Built once: kept while the image's label records the same inputs (this folder's scripts); --rebuild makes it
# anew. Concurrent builds wait for each other. Prints image=, archive= and models= lines.
# Needs root, podman, busybox and Debian's /usr/bin/python3 (its interpreter and modules are copied).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REBUILD=0
for arg in "$@"; do
  case $arg in
    --rebuild) REBUILD=1 ;;
    *) echo "usage: $0 [--rebuild]" >&2; exit 2 ;;
  esac
done
STATE=${PROVISION_OLLAMA_STANDIN_DIR:-/var/tmp/provision-ollama-standin}
VERSION=$(sed -n 's/^VERSION = "\(.*\)"$/\1/p' "$HERE/standin.py")
IMAGE=localhost/ollama-standin:$VERSION
ARCHIVE=$STATE/ollama-standin-$VERSION.tar
MODELS=$STATE/models
INPUTS=$(cat "$HERE"/standin.py "$HERE"/make-models.py "$HERE"/assemble-rootfs.py "$HERE"/build-image.sh \
  "$HERE"/README.md | sha256sum | cut -c1-16)
report() { echo "image=$IMAGE"; echo "archive=$ARCHIVE"; echo "models=$MODELS"; }

for tool in podman busybox /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install podman busybox python3" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "building the image needs root (podman import)" >&2; exit 1; }
mkdir -p "$STATE"
exec 9>"$STATE/build.lock"
flock 9
built=$(podman image inspect --format '{{index .Labels "provision.standin.inputs"}}' "$IMAGE" 2>/dev/null || true)
if [ "$REBUILD" = 0 ] && [ "$built" = "$INPUTS" ] && [ "$(cat "$ARCHIVE.inputs" 2>/dev/null)" = "$INPUTS" ] \
   && [ -f "$ARCHIVE" ] && [ -d "$MODELS/manifests" ]; then
  echo "$IMAGE is already built" >&2
  report
  exit 0
fi

ROOTFS=$STATE/rootfs
cleanup() { rm -rf "$ROOTFS" "$STATE/rootfs.tar" "$ARCHIVE.new" "$MODELS.new"; }
trap cleanup EXIT
cleanup
started=$SECONDS
/usr/bin/python3 "$HERE/assemble-rootfs.py" "$ROOTFS"
/usr/bin/python3 "$HERE/make-models.py" "$ROOTFS/usr/share/ollama-standin/models" >/dev/null
tar --numeric-owner --owner=0 --group=0 -C "$ROOTFS" -cf "$STATE/rootfs.tar" .
podman rmi -i "$IMAGE" >/dev/null 2>&1 || true
# The official image's shape: ENTRYPOINT /bin/ollama, CMD serve, OLLAMA_HOST=0.0.0.0:11434, port 11434.
podman import -q \
  --change 'ENTRYPOINT ["/bin/ollama"]' --change 'CMD ["serve"]' --change 'EXPOSE 11434' \
  --change 'ENV OLLAMA_HOST=0.0.0.0:11434' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NVIDIA_DRIVER_CAPABILITIES=compute,utility' --change 'ENV NVIDIA_VISIBLE_DEVICES=all' \
  --change "LABEL org.opencontainers.image.title=ollama-standin" \
  --change "LABEL org.opencontainers.image.description=A stand-in for the Ollama server, for provision's tests: not Ollama, it runs no model" \
  --change "LABEL org.opencontainers.image.version=$VERSION" \
  --change "LABEL provision.standin=ollama" --change "LABEL provision.standin.inputs=$INPUTS" \
  "$STATE/rootfs.tar" "$IMAGE" >/dev/null
# A smoke test: the interpreter, its modules and the CLI start in the image (no server: the warning is expected).
out=$(podman --runtime runc --cgroup-manager=cgroupfs run --rm --network none --ulimit nofile=1024:1024 \
  --ulimit nproc=1024:1024 "$IMAGE" --version 2>&1) || true
case $out in
  *"client version is $VERSION"*) ;;
  *) echo "the image does not start: $out" >&2; podman rmi -i "$IMAGE" >/dev/null 2>&1; exit 1 ;;
esac
podman save -q --format docker-archive -o "$ARCHIVE.new" "$IMAGE"
mv "$ARCHIVE.new" "$ARCHIVE"
(cd "$STATE" && sha256sum "$(basename "$ARCHIVE")" > "$ARCHIVE.sha256")
rm -rf "$MODELS"
cp -a "$ROOTFS/usr/share/ollama-standin/models" "$MODELS.new"
mv "$MODELS.new" "$MODELS"
echo "$INPUTS" > "$ARCHIVE.inputs"
echo "built $IMAGE in $((SECONDS - started)) s: $(du -h "$ARCHIVE" | cut -f1) archive, models $(du -sh "$MODELS" | cut -f1)" >&2
report
