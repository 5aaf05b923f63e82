/// Host facts gathered in one round trip by a POSIX shell script (no Python on
/// the host), named as Ansible's `ansible_facts` where a name exists.
public enum Facts {
    static let script = #"""
    [ -r /etc/os-release ] && . /etc/os-release
    echo "id=${ID:-}"; echo "id_like=${ID_LIKE:-}"; echo "version_id=${VERSION_ID:-}"
    echo "codename=${VERSION_CODENAME:-}"; echo "pretty=${PRETTY_NAME:-}"
    echo "arch=$(uname -m)"; echo "kernel=$(uname -r)"; echo "nodename=$(uname -n)"
    echo "pid1=$(cat /proc/1/comm 2>/dev/null)"
    for p in apt-get dnf5 dnf yum zypper apk pacman; do
      if command -v "$p" >/dev/null 2>&1; then echo "pkg=$p"; break; fi
    done
    echo "user=$(id -un)"; echo "uid=$(id -u)"; echo "gid=$(id -g)"; echo "home=${HOME:-}"
    echo "cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null)"
    echo "memkb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo 2>/dev/null)"
    if [ -r /proc/driver/nvidia/version ]; then
      echo "nvidia=1"; echo "nvidia_driver=$(grep "Kernel Module" /proc/driver/nvidia/version | head -n 1 | tr -s ' \t' '\n\n' | grep -E '^[0-9]+\.[0-9.]+$' | head -n 1)"
    elif [ -e /dev/nvidia0 ]; then echo "nvidia=1"; fi
    if command -v podman >/dev/null 2>&1; then echo "podman=$(podman --version 2>/dev/null)"; fi
    echo "users=$(cut -d: -f1 /etc/passwd 2>/dev/null | tr '\n' ' ')"
    """#

    /// The observation that gathers them.
    public static var observation: Observation { .command(["/bin/sh", "-c", script]) }

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
