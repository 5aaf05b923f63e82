#!/bin/bash
# Builds the STAND-IN images for motoko's services (the real Nextcloud, PostgreSQL, Redis, LiteLLM and vLLM
# images cannot be pulled here) and saves each as a `podman save` archive in OUTDIR, for the playbooks'
# *_image_archive variables. Each is busybox answering HTTP on its service's port, with a page that says
# it is a stand-in; arguments the real image would take (--config, --model) are accepted and ignored.
# Usage: build-standins.sh OUTDIR      (archives are rebuilt only when missing)
set -euo pipefail
OUT=${1:?usage: build-standins.sh OUTDIR}
mkdir -p "$OUT"
busybox=$(command -v busybox) || { echo "busybox is missing: apt-get install busybox" >&2; exit 1; }
# name port: the image is localhost/provision-standin/NAME:1 (names say what they are); `web` is a plain web
# server for the services' own tests.
STANDINS="nextcloud:80 postgres:5432 redis:6379 litellm:4000 vllm:8000 web:8080"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for entry in $STANDINS; do
  name=${entry%%:*} port=${entry##*:}
  archive=$OUT/$name.tar
  [ -s "$archive" ] && continue
  root=$work/$name
  mkdir -p "$root/bin" "$root/www/health" "$root/www/v1" "$root/tmp"
  cp "$busybox" "$root/bin/busybox"
  # A dynamically linked busybox brings its libraries (Debian's `busybox` package is not static).
  for lib in $(ldd "$busybox" 2>/dev/null | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"
  done
  for applet in sh httpd wget cat echo sleep ls ps; do ln -sf busybox "$root/bin/$applet"; done
  echo "$name stand-in (provision test image, not the real $name)" > "$root/www/index.html"
  echo '{"status":"healthy","stand_in":true}' > "$root/www/health/index.html"
  echo '{"object":"list","data":[{"id":"stand-in","object":"model"}]}' > "$root/www/v1/models"
  # The entrypoint ignores the real image's arguments and stops at once on SIGTERM.
  printf '#!/bin/sh\ntrap "exit 0" TERM INT\nhttpd -f -p "$STANDIN_PORT" -h /www &\nwait\n' > "$root/bin/standin"
  chmod 755 "$root/bin/standin"
  tar -C "$root" -cf "$work/$name-rootfs.tar" .
  ref=localhost/provision-standin/$name:1
  podman import -q --change 'ENTRYPOINT ["/bin/standin"]' --change "ENV STANDIN_PORT=$port" \
    --change "EXPOSE $port" "$work/$name-rootfs.tar" "$ref" >/dev/null
  podman save -q -o "$archive.part" "$ref"
  podman rmi -f "$ref" >/dev/null 2>&1 || true
  mv "$archive.part" "$archive"
done
echo "$OUT"
