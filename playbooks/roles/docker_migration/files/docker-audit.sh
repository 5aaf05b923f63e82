#!/bin/sh
# Standard §6.1 step 1, read-only: what Docker Engine holds, as YAML for migrate-docker.yml (every value is
# JSON-quoted, so nothing a container holds is read as YAML). Once Docker Engine is gone, the manifest the
# export kept answers instead (source: manifest), so a second run redeploys the same projects.
# Usage: docker-audit.sh DIR
set -u
dir=$1
engine=
for p in docker-ce docker-ee docker.io moby-engine; do
  if command -v dpkg-query >/dev/null 2>&1; then
    case $(dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null) in ii*) engine="$engine $p" ;; esac
  elif command -v rpm >/dev/null 2>&1 && rpm -q "$p" >/dev/null 2>&1; then
    engine="$engine $p"
  fi
done
engine=${engine# }
daemon=$(systemctl is-active docker.service 2>/dev/null) || true
echo "engine: \"$engine\""
echo "daemon: \"${daemon:-none}\""
if [ -z "$engine" ]; then
  if [ -f "$dir/manifest.yml" ]; then
    echo 'source: "manifest"'
    sed -n '/^containers:/,$p' "$dir/manifest.yml"
  else
    echo 'source: "none"'
  fi
  exit 0
fi
if ! docker info >/dev/null 2>&1; then
  echo "Docker Engine ($engine) is installed, but its daemon does not answer (docker info): start it (systemctl start docker)" \
    "so that its containers can be audited and exported; nothing was changed" >&2
  exit 1
fi
echo 'source: "live"'
ids=$(docker ps -aq)
# Durations and CPUs in nanoseconds become seconds and CPUs (Go templates cannot divide).
units() { awk '{ while (match($0, /__(NS|NANO)__[0-9]+/)) { t = substr($0, RSTART, RLENGTH); n = t; sub(/__(NS|NANO)__/, "", n);
  v = (n / 1e9) (t ~ /^__NS/ ? "s" : ""); $0 = substr($0, 1, RSTART - 1) v substr($0, RSTART + RLENGTH) } print }'; }
echo "containers:"
[ -z "$ids" ] || docker inspect --format '  - {"name": {{json (slice .Name 1)}}, "id": {{json .Id}}, "project": {{json (index .Config.Labels "com.docker.compose.project")}}, "service": {{json (index .Config.Labels "com.docker.compose.service")}}, "image": {{json .Config.Image}}, "state": {{json .State.Status}}}' $ids
echo "projects:"
[ -z "$ids" ] || docker inspect --format '{{$l := .Config.Labels}}{{with index $l "com.docker.compose.project"}}  - {"name": {{json .}}, "working_dir": {{json (index $l "com.docker.compose.project.working_dir")}}, "config_files": {{json (index $l "com.docker.compose.project.config_files")}}, "environment_file": {{json (index $l "com.docker.compose.project.environment_file")}}}{{end}}' $ids | grep . | sort -u
echo "images:"
[ -z "$ids" ] || docker inspect --format '  - {{json .Config.Image}}' $ids | sort -u
echo "volumes:"
[ -z "$ids" ] || docker inspect --format '{{range .Mounts}}{{if eq .Type "volume"}}  - {"name": {{json .Name}}, "mountpoint": {{json .Source}}}{{"\n"}}{{end}}{{end}}' $ids | grep . | sort -u
# The containers docker compose did not make, as one compose project: every setting that differs from
# Docker's defaults is written (the compose module refuses what it cannot carry over, naming the key).
standalone=
for id in $ids; do
  [ -n "$(docker inspect --format '{{index .Config.Labels "com.docker.compose.project"}}' "$id")" ] || standalone="$standalone $id"
done
[ -n "$standalone" ] || exit 0
echo "standalone:"
echo "  services:"
# shellcheck disable=SC2016  # a Go template, not shell
docker inspect --format '    {{json (slice .Name 1)}}:
      "container_name": {{json (slice .Name 1)}}
      "image": {{json .Config.Image}}
{{- if .Config.Entrypoint}}
      "entrypoint": {{json .Config.Entrypoint}}{{end}}
{{- if .Config.Cmd}}
      "command": {{json .Config.Cmd}}{{end}}
{{- if .Config.Env}}
      "environment": {{json .Config.Env}}{{end}}
{{- if .Config.User}}
      "user": {{json .Config.User}}{{end}}
{{- if .Config.WorkingDir}}
      "working_dir": {{json .Config.WorkingDir}}{{end}}
{{- if ne .Config.Hostname (slice .Id 0 12)}}
      "hostname": {{json .Config.Hostname}}{{end}}
{{- if .Config.Labels}}
      "labels": {{json .Config.Labels}}{{end}}
{{- if .HostConfig.PortBindings}}
      "ports":{{range $p, $b := .HostConfig.PortBindings}}{{range $b}}
        - "{{if and .HostIp (ne .HostIp "0.0.0.0") (ne .HostIp "::")}}{{.HostIp}}:{{end}}{{if .HostPort}}{{.HostPort}}:{{end}}{{$p}}"{{end}}{{end}}{{end}}
{{- if .Mounts}}
      "volumes":{{range .Mounts}}
        - {{if eq .Type "volume"}}{{json (printf "%s:%s%s" .Name .Destination (or (and (not .RW) ":ro") ""))}}{{else}}{{json (printf "%s:%s%s" .Source .Destination (or (and (not .RW) ":ro") ""))}}{{end}}{{end}}{{end}}
{{- with index .HostConfig "Tmpfs"}}
      "tmpfs":{{range $p, $o := .}}
        - {{json (printf "%s%s" $p (or (and $o (printf ":%s" $o)) ""))}}{{end}}{{end}}
{{- with .HostConfig.RestartPolicy}}{{if and .Name (ne .Name "no")}}
      "restart": "{{.Name}}{{if ne (print .MaximumRetryCount) "0"}}:{{.MaximumRetryCount}}{{end}}"{{end}}{{end}}
{{- if and (ne .HostConfig.NetworkMode "default") (ne .HostConfig.NetworkMode "bridge")}}
      "network_mode": {{json .HostConfig.NetworkMode}}{{end}}
{{- with index .Config "Healthcheck"}}{{if index . "Test"}}
      "healthcheck":
        "test": {{json .Test}}{{with index . "Interval"}}{{if ne (print .) "0"}}
        "interval": "__NS__{{.}}"{{end}}{{end}}{{with index . "Timeout"}}{{if ne (print .) "0"}}
        "timeout": "__NS__{{.}}"{{end}}{{end}}{{with index . "StartPeriod"}}{{if ne (print .) "0"}}
        "start_period": "__NS__{{.}}"{{end}}{{end}}{{with index . "Retries"}}{{if ne (print .) "0"}}
        "retries": {{.}}{{end}}{{end}}{{end}}{{end}}
{{- if .HostConfig.Devices}}
      "devices":{{range .HostConfig.Devices}}
        - {{json (printf "%s:%s:%s" .PathOnHost .PathInContainer .CgroupPermissions)}}{{end}}{{end}}
{{- if .HostConfig.DeviceRequests}}
      "deploy": {"resources": {"reservations": {"devices": [{{range $i, $d := .HostConfig.DeviceRequests}}{{if $i}}, {{end}}{"driver": {{json (or $d.Driver "nvidia")}}{{if $d.DeviceIDs}}, "device_ids": {{json $d.DeviceIDs}}{{else}}, "count": {{if eq (print $d.Count) "-1"}}"all"{{else}}{{$d.Count}}{{end}}{{end}}, "capabilities": {{if $d.Capabilities}}{{json (index $d.Capabilities 0)}}{{else}}["gpu"]{{end}}}{{end}}]}}}{{end}}
{{- if .HostConfig.CapAdd}}
      "cap_add": {{json .HostConfig.CapAdd}}{{end}}
{{- if .HostConfig.CapDrop}}
      "cap_drop": {{json .HostConfig.CapDrop}}{{end}}
{{- if .HostConfig.Privileged}}
      "privileged": true{{end}}
{{- if .HostConfig.ReadonlyRootfs}}
      "read_only": true{{end}}
{{- if index .HostConfig "Init"}}
      "init": true{{end}}
{{- if .HostConfig.ExtraHosts}}
      "extra_hosts": {{json .HostConfig.ExtraHosts}}{{end}}
{{- if .HostConfig.Dns}}
      "dns": {{json .HostConfig.Dns}}{{end}}
{{- if .HostConfig.DnsSearch}}
      "dns_search": {{json .HostConfig.DnsSearch}}{{end}}
{{- if .HostConfig.DnsOptions}}
      "dns_opt": {{json .HostConfig.DnsOptions}}{{end}}
{{- if .HostConfig.Ulimits}}
      "ulimits":{{range .HostConfig.Ulimits}}
        {{json .Name}}: {"soft": {{.Soft}}, "hard": {{.Hard}}}{{end}}{{end}}
{{- if ne (print .HostConfig.Memory) "0"}}
      "mem_limit": {{.HostConfig.Memory}}{{end}}
{{- if and (ne (print .HostConfig.MemorySwap) "0") (ne (print .HostConfig.MemorySwap) "-1")}}
      "memswap_limit": {{.HostConfig.MemorySwap}}{{end}}
{{- if ne (print .HostConfig.MemoryReservation) "0"}}
      "mem_reservation": {{.HostConfig.MemoryReservation}}{{end}}
{{- if ne (print .HostConfig.NanoCpus) "0"}}
      "cpus": "__NANO__{{.HostConfig.NanoCpus}}"{{end}}
{{- if ne (print .HostConfig.CpuShares) "0"}}
      "cpu_shares": {{.HostConfig.CpuShares}}{{end}}
{{- with .HostConfig.PidsLimit}}{{if and (ne (print .) "0") (ne (print .) "-1")}}
      "pids_limit": {{.}}{{end}}{{end}}
{{- if ne (print .HostConfig.ShmSize) "67108864"}}
      "shm_size": {{.HostConfig.ShmSize}}{{end}}
{{- with index .Config "StopSignal"}}
      "stop_signal": {{json .}}{{end}}
{{- with index .Config "StopTimeout"}}
      "stop_grace_period": "{{.}}s"{{end}}
{{- with index .HostConfig "Sysctls"}}
      "sysctls": {{json .}}{{end}}
{{- if .HostConfig.SecurityOpt}}
      "security_opt": {{json .HostConfig.SecurityOpt}}{{end}}
{{- if .HostConfig.GroupAdd}}
      "group_add": {{json .HostConfig.GroupAdd}}{{end}}
{{- if or (ne .HostConfig.LogConfig.Type "json-file") .HostConfig.LogConfig.Config}}
      "logging": {"driver": {{json .HostConfig.LogConfig.Type}}, "options": {{json .HostConfig.LogConfig.Config}}}{{end}}
{{- if .HostConfig.PidMode}}
      "pid": {{json .HostConfig.PidMode}}{{end}}
{{- if and .HostConfig.IpcMode (ne .HostConfig.IpcMode "private") (ne .HostConfig.IpcMode "shareable")}}
      "ipc": {{json .HostConfig.IpcMode}}{{end}}
{{- if .HostConfig.Links}}
      "links": {{json .HostConfig.Links}}{{end}}
{{- if .HostConfig.VolumesFrom}}
      "volumes_from": {{json .HostConfig.VolumesFrom}}{{end}}
{{- if and .HostConfig.Runtime (ne .HostConfig.Runtime "runc")}}
      "runtime": {{json .HostConfig.Runtime}}{{end}}' $standalone | units | sed 's/\$/$$/g'
# Their named volumes come over under their own names (external to the project).
vols=$(docker inspect --format '{{range .Mounts}}{{if eq .Type "volume"}}{{json .Name}}{{"\n"}}{{end}}{{end}}' $standalone | grep . | sort -u)
[ -n "$vols" ] || exit 0
echo "  volumes:"
for v in $vols; do echo "    $v: {\"external\": true}"; done
