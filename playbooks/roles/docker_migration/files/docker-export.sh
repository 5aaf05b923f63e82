#!/bin/sh
# Standard §6.1 step 2 and its rollback plan ("Keep Docker container export tarballs"): every container's
# definition (docker inspect) and filesystem (docker export), every image the containers use (docker save),
# every named volume's data, every compose project's files, and the audit as manifest.yml — written into a
# scratch folder beside DIR and moved in place whole; manifest.yml comes last: it says the export is complete.
# Usage: docker-export.sh DIR AUDIT-SCRIPT
set -eu
dir=$1 audit=$2
mkdir -p "$dir"
chmod 700 "$dir"
work=$(mktemp -d "$dir/.export.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/containers" "$work/images" "$work/volumes" "$work/projects" "$work/standalone"
sh "$audit" "$dir" > "$work/manifest.yml"
ids=$(docker ps -aq)
for id in $ids; do
  name=$(docker inspect --format '{{slice .Name 1}}' "$id")
  docker inspect "$id" > "$work/containers/$name.json"
  docker export -o "$work/containers/$name.tar" "$id"
done
[ -z "$ids" ] || for ref in $(docker inspect --format '{{.Config.Image}}' $ids | sort -u); do
  docker save -o "$work/images/$(printf '%s' "$ref" | tr '/:@' '___').tar" "$ref"
done
[ -z "$ids" ] || docker inspect --format '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{.Source}}{{"\n"}}{{end}}{{end}}' $ids | sort -u |
  while read -r name source; do
    [ -n "$name" ] || continue
    tar --numeric-owner --xattrs --acls -C "$source" -cpf "$work/volumes/$name.tar" .
  done
# Each compose project's files, as they were (the project is redeployed from its own folder).
[ -z "$ids" ] || docker inspect --format '{{$l := .Config.Labels}}{{with index $l "com.docker.compose.project"}}{{.}}|{{index $l "com.docker.compose.project.config_files"}}|{{index $l "com.docker.compose.project.environment_file"}}{{end}}' $ids |
  grep . | sort -u | while IFS='|' read -r project files envfile; do
    mkdir -p "$work/projects/$project"
    for f in $(printf '%s' "$files,$envfile" | tr ',' ' '); do [ -f "$f" ] && cp -p "$f" "$work/projects/$project/"; done
  done
sed -n '/^standalone:/,$p' "$work/manifest.yml" | sed '1d; s/^  //' > "$work/standalone/compose.yaml"
[ -s "$work/standalone/compose.yaml" ] || rm -f "$work/standalone/compose.yaml"
for part in containers images volumes projects standalone; do
  rm -rf "$dir/$part"
  mv "$work/$part" "$dir/$part"
done
mv "$work/manifest.yml" "$dir/manifest.yml"
