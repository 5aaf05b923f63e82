import Foundation

/// Host facts gathered in one round trip by a POSIX shell script (no Python on
/// the host), named as Ansible's `ansible_facts` where a name exists.
public enum Facts {
    /// Sets `pp` to podman's path on PATH, as `command -v` finds it, without the subshell `$(command -v)` costs.
    public static let findPodman = #"""
    pp=; set -f; IFS=:; for d in $PATH; do [ -f "${d:-.}/podman" ] && [ -x "${d:-.}/podman" ] && { pp=${d:-.}/podman; break; }; done; unset IFS; set +f
    """#

    static let script = #"""
    # Builtins where they do: every run pays this script's forks, on every host.
    [ -r /etc/os-release ] && . /etc/os-release
    echo "id=${ID:-}"; echo "id_like=${ID_LIKE:-}"; echo "version_id=${VERSION_ID:-}"
    echo "codename=${VERSION_CODENAME:-}"; echo "pretty=${PRETTY_NAME:-}"
    # uname's fields as the kernel shows them in /proc (uname itself where they are not).
    n= r= a=
    { read -r n </proc/sys/kernel/hostname; read -r r </proc/sys/kernel/osrelease; read -r a </proc/sys/kernel/arch; } 2>/dev/null
    if [ -z "$n" ] || [ -z "$r" ] || [ -z "$a" ]; then u=$(uname -n -r -m); n=${u%% *}; u=${u#* }; r=${u%% *}; a=${u#* }; fi
    echo "arch=$a"; echo "kernel=$r"; echo "nodename=$n"
    p1=; { read -r p1 </proc/1/comm; } 2>/dev/null; echo "pid1=$p1"
    for p in apt-get dnf5 dnf yum zypper apk pacman; do
      if command -v "$p" >/dev/null 2>&1; then echo "pkg=$p"; break; fi
    done
    # The effective ids as id(1) prints them, from /proc/self/status; the name from /etc/passwd below.
    ui= gi=
    { while read -r k _ v _; do case $k in Uid:) ui=$v ;; Gid:) gi=$v; break ;; esac; done </proc/self/status; } 2>/dev/null
    if [ -z "$ui" ] || [ -z "$gi" ]; then i=$(LC_ALL=C id); ui=${i#uid=}; gi=${i#* gid=}; ui=${ui%%[!0-9]*} gi=${gi%%[!0-9]*}; fi
    echo "uid=$ui"; echo "gid=$gi"; echo "home=${HOME:-}"
    # Online CPUs as getconf _NPROCESSORS_ONLN counts them (the same file), e.g. "0-3,8-11".
    c=; { read -r o </sys/devices/system/cpu/online; } 2>/dev/null && {
      c=0; IFS=,; for g in $o; do
        f=${g%-*} l=${g#*-}
        case $f$l in *[!0-9]*|'') c=; break ;; esac
        c=$((c + l - f + 1))
      done; unset IFS
    }
    [ -n "$c" ] || c=$(getconf _NPROCESSORS_ONLN 2>/dev/null)
    echo "cores=$c"
    m=; { while read -r k v _; do [ "$k" = MemTotal: ] && { m=$v; break; }; done </proc/meminfo; } 2>/dev/null
    echo "memkb=$m"
    if [ -r /proc/driver/nvidia/version ]; then
      echo "nvidia=1"; echo "nvidia_driver=$(grep "Kernel Module" /proc/driver/nvidia/version | head -n 1 | tr -s ' \t' '\n\n' | grep -E '^[0-9]+\.[0-9.]+$' | head -n 1)"
    elif [ -e /dev/nvidia0 ]; then echo "nvidia=1"; fi
    # podman's own start-up is the slowest fact (tens of ms): the version known for this very binary
    # (same path, inode, size and times, $1) is taken as said ($2); anything else asks podman.
    \#(findPodman)
    if [ -n "$pp" ]; then
      sig=$(stat -L -c '%n %d %i %s %y %z' -- "$pp" 2>/dev/null); echo "podman_binary=$sig"
      if [ -n "$sig" ] && [ "$sig" = "${1:-}" ]; then echo "podman=podman version $2"; else echo "podman=$(podman --version 2>/dev/null)"; fi
    fi
    us= un=; { while IFS=: read -r n _ i _; do us="$us$n "; [ -n "$un" ] || [ "$i" != "$ui" ] || un=$n; done </etc/passwd; } 2>/dev/null
    [ -n "$un" ] || un=$(id -un 2>/dev/null)
    echo "users=$us"; echo "user=$un"
    """#

    /// The observation that gathers them; `podman` is the version last seen for a podman binary
    /// (its `stat` line), which the host confirms or replaces.
    static func observation(podman known: (binary: String, version: String)? = nil) -> Observation {
        .command(["/bin/sh", "-c", script, "facts", known?.binary ?? "", known?.version ?? ""])
    }

    /// Gathers the facts of the host behind `transport` in a round trip of their own, and
    /// remembers them in `memory` (nil: podman is asked its version each time).
    public static func gather(_ host: String, via transport: Transport, memory: FactsMemory?) throws -> ValueDict {
        let request = observation(podman: memory?.load()?.podman)
        return try read(try transport.observe([request]), for: request, host: host, memory: memory)
    }

    /// The facts in `observed`'s answer to `request` (a `Facts.observation`), remembered in `memory`.
    static func read(_ observed: Observations, for request: Observation, host: String, memory: FactsMemory?) throws -> ValueDict {
        guard case .command(let argv) = request, let output = observed.command(argv), output.status == 0 else {
            throw TransportError("gathering facts failed on \(host)")
        }
        memory?.store(output.stdout)
        return parse(output.stdout)
    }

    static let families: [String: String] = [
        "debian": "Debian", "ubuntu": "Debian", "linuxmint": "Debian", "raspbian": "Debian",
        "fedora": "RedHat", "rhel": "RedHat", "centos": "RedHat", "rocky": "RedHat", "almalinux": "RedHat",
        "ol": "RedHat", "amzn": "RedHat", "arch": "Archlinux", "opensuse-leap": "Suse", "opensuse-tumbleweed": "Suse",
        "sles": "Suse", "alpine": "Alpine",
    ]
    static let distributions: [String: String] = [
        "debian": "Debian", "ubuntu": "Ubuntu", "fedora": "Fedora", "rhel": "RedHat", "centos": "CentOS",
        "rocky": "Rocky", "almalinux": "AlmaLinux", "ol": "OracleLinux", "amzn": "Amazon", "arch": "Archlinux",
        "alpine": "Alpine", "linuxmint": "Linux Mint",
    ]

    /// `ansible_facts` from the script's `key=value` lines.
    public static func parse(_ output: String) -> ValueDict {
        var raw: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            raw[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        let id = raw["id"] ?? ""
        let family = families[id] ?? raw["id_like"].flatMap { like in
            like.split(separator: " ").lazy.compactMap { families[String($0)] }.first
        } ?? (id.isEmpty ? "unknown" : id.capitalized)
        let version = raw["version_id"] ?? ""
        var facts = ValueDict()
        facts["os_family"] = .string(family)
        facts["distribution"] = .string(distributions[id] ?? (id.isEmpty ? "unknown" : id.capitalized))
        facts["distribution_version"] = .string(version)
        facts["distribution_major_version"] = .string(version.split(separator: ".").first.map(String.init) ?? version)
        facts["distribution_release"] = .string(raw["codename"] ?? "")
        facts["architecture"] = .string(raw["arch"] ?? "")
        facts["kernel"] = .string(raw["kernel"] ?? "")
        facts["system"] = "Linux"
        let nodename = raw["nodename"] ?? ""
        facts["nodename"] = .string(nodename)
        facts["hostname"] = .string(nodename.split(separator: ".").first.map(String.init) ?? nodename)
        let pid1 = raw["pid1"] ?? ""
        facts["service_mgr"] = .string(pid1 == "systemd" ? "systemd" : (pid1.isEmpty ? "unknown" : pid1))
        let pkg = raw["pkg"] ?? ""
        facts["pkg_mgr"] = .string(pkg == "apt-get" ? "apt" : (pkg.isEmpty ? "unknown" : pkg))
        facts["user_id"] = .string(raw["user"] ?? "")
        facts["user_uid"] = .int(Int(raw["uid"] ?? "") ?? -1)
        facts["user_gid"] = .int(Int(raw["gid"] ?? "") ?? -1)
        facts["user_dir"] = .string(raw["home"] ?? "")
        facts["processor_nproc"] = .int(Int(raw["cores"] ?? "") ?? 0)
        facts["memtotal_mb"] = .int((Int(raw["memkb"] ?? "") ?? 0) / 1024)
        facts["nvidia_gpu"] = .bool(raw["nvidia"] == "1")
        if let driver = raw["nvidia_driver"], !driver.isEmpty { facts["nvidia_driver_version"] = .string(driver) }
        if let podman = raw["podman"], let v = podman.split(separator: " ").last {
            facts["podman_version"] = .string(String(v))
        }
        facts["users"] = .list((raw["users"] ?? "").split(separator: " ").map { .string(String($0)) })
        return facts
    }

    /// Variables a play sees: `ansible_facts` plus the `ansible_*` names Ansible injects.
    /// Marked untrusted: what a host says about itself is never rendered as a template.
    public static func variables(_ facts: ValueDict) -> ValueDict {
        var vars = ValueDict()
        vars["ansible_facts"] = .untrusted(.dict(facts))
        for (key, value) in facts { vars["ansible_" + key] = .untrusted(value) }
        return vars
    }
}

/// The facts a host gave last time, kept on the controller (`$XDG_CACHE_HOME/provision/facts`, else
/// `~/.cache/provision/facts`, mode 0600, one file per host and user): podman's version is taken from
/// them while the host says its podman binary is the same, and a run may render its first tasks with
/// them while the host's facts are on their way (`HostRun.start`). Never trusted beyond that.
public struct FactsMemory: Sendable {
    let file: String

    /// The memory for `host` (a transport's name), or nil where there is no home to keep it in.
    public init?(host: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let folder = ControllerCache.folder("facts", environment: environment) else { return nil }
        file = "\(folder)/\(SHA256.hex(Array(host.utf8)).prefix(32))"
    }

    /// The facts script's output as last stored, its facts and podman's binary and version in it.
    func load() -> (output: String, facts: ValueDict, podman: (binary: String, version: String)?)? {
        guard let data = FileManager.default.contents(atPath: file), let output = String(data: data, encoding: .utf8),
              !output.isEmpty else { return nil }
        let facts = Facts.parse(output)
        var podman: (String, String)?
        if case .string(let version)? = facts["podman_version"],
           let binary = output.split(separator: "\n").first(where: { $0.hasPrefix("podman_binary=") })?.dropFirst(14), !binary.isEmpty {
            podman = (String(binary), version)
        }
        return (output, facts, podman)
    }

    /// Best effort: a memory that cannot be written only costs the next run a round trip.
    func store(_ output: String) {
        guard load()?.output != output else { return }
        ControllerCache.write(Data(output.utf8), to: file)
    }
}
