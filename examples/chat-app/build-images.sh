#!/bin/bash
# Builds the chat app's STAND-IN images on this machine (no registry is needed): busybox for the frontend,
# this machine's python3 (stdlib only) for the backend and the model server stand-in, which answers with
# canned tokens (no model runs). Each is saved as a `podman save` archive in OUTDIR, for chat-app.yml's
# chat_app_image_archives:
#   localhost/chat-app/frontend:1       busybox httpd, the page, /cgi-bin/status (the backend's health by name)
#   localhost/chat-app/backend:1        python3 app/backend.py (HTTP API, /health, WebSocket /ws)
#   localhost/chat-app/model-standin:1  python3 app/model_standin.py (Ollama-shaped API on 11434)
# Usage: build-images.sh OUTDIR      (archives are rebuilt when missing or older than their sources)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:?usage: build-images.sh OUTDIR}
mkdir -p "$OUT"
busybox=$(command -v busybox) || { echo "busybox is missing: apt-get install busybox" >&2; exit 1; }
python=/usr/bin/python3
[ -x "$python" ] || { echo "$python is missing: apt-get install python3" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Copies a program or library with the libraries it links (ldd) into root $1.
with_libraries() {
  local root=$1 file=$2
  mkdir -p "$root$(dirname "$file")" && cp -L "$file" "$root$file"
  for lib in $(ldd "$file" 2>/dev/null | grep -o '/[^ ]*'); do
    [ -e "$root$lib" ] || { mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"; }
  done
}

base_root() {
  local root=$1
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/app"
  chmod 1777 "$root/tmp"
  with_libraries "$root" "$busybox"
  [ "$busybox" = /bin/busybox ] || ln -sf "$busybox" "$root/bin/busybox"
  for applet in sh wget cat echo sleep ls ps env printf; do ln -sf "$busybox" "$root/bin/$applet"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
  echo 'chat:x:1000:1000:chat:/app:/bin/sh' >> "$root/etc/passwd"
  printf 'root:x:0:\nchat:x:1000:\n' > "$root/etc/group"
  # glibc looks names up (the other services, by name) as nsswitch.conf says; without it busybox's wget crashes.
  echo 'hosts: files dns' > "$root/etc/nsswitch.conf"
}

python_root() {
  local root=$1 version
  base_root "$root"
  version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  with_libraries "$root" "$(readlink -f "$python")"
  ln -sf "$(readlink -f "$python")" "$root/bin/python3"
  local stdlib=/usr/lib/python$version
  mkdir -p "$root$stdlib"
  tar -C "$stdlib" --exclude=test --exclude=idlelib --exclude=tkinter --exclude=lib2to3 --exclude=ensurepip --exclude=turtledemo \
    --exclude=pydoc_data --exclude='config-*' --exclude=__pycache__ --exclude=site-packages --exclude=dist-packages -cf - . \
    | tar -C "$root$stdlib" -xf -
  for module in "$root$stdlib"/lib-dynload/*.so; do with_libraries "$root" "${module#"$root"}"; done
  cp "$HERE/app/probe.py" "$root/app/"
}

build() {
  local name=$1 root=$2; shift 2
  local ref=localhost/chat-app/$name:1 archive=$OUT/$name.tar
  tar --numeric-owner -C "$root" -cf "$work/$name-rootfs.tar" .
  podman rmi -f "$ref" >/dev/null 2>&1 || true
  podman import -q "$@" "$work/$name-rootfs.tar" "$ref" >/dev/null
  podman save -q -o "$archive.part" "$ref"
  podman rmi -f "$ref" >/dev/null 2>&1 || true
  mv "$archive.part" "$archive"
}

fresh() { [ -s "$OUT/$1.tar" ] && [ -z "$(find "$HERE/app" "$HERE/frontend" "$0" -newer "$OUT/$1.tar" -print -quit)" ]; }

if ! fresh frontend; then
  root=$work/frontend
  base_root "$root"
  for applet in httpd; do ln -sf "$busybox" "$root/bin/$applet"; done
  mkdir -p "$root/www"
  cp -r "$HERE/frontend/index.html" "$HERE/frontend/cgi-bin" "$root/www/"
  cp "$HERE/frontend/start.sh" "$root/app/start.sh"
  build frontend "$root" --change 'CMD ["/bin/sh", "/app/start.sh"]' --change 'EXPOSE 8080' \
    --change 'LABEL org.opencontainers.image.description="chat-app frontend (provision example stand-in)"'
fi
if ! fresh backend; then
  root=$work/backend
  python_root "$root"
  cp "$HERE/app/backend.py" "$root/app/"
  build backend "$root" --change 'CMD ["python3", "/app/backend.py"]' --change 'EXPOSE 8000' \
    --change 'LABEL org.opencontainers.image.description="chat-app backend (provision example)"'
fi
if ! fresh model-standin; then
  root=$work/model-standin
  python_root "$root"
  cp "$HERE/app/model_standin.py" "$root/app/"
  build model-standin "$root" --change 'CMD ["python3", "/app/model_standin.py"]' --change 'EXPOSE 11434' \
    --change 'LABEL org.opencontainers.image.description="STAND-IN model server: canned tokens, no model (provision example)"'
fi
echo "$OUT"
