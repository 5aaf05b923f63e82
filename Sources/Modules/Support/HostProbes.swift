import Provisioner

/// Read-only commands for what a plain `lstat` observation cannot tell: the state
/// behind a symbolic link, access times, hard-link identity, directory trees.
/// They use only coreutils and findutils, which DESIGN §4 expects on every host.
enum HostProbes {
    static let statFormat = "%F|%a|%U|%G|%u|%g|%X|%Y"

    /// A shell function for probe scripts: `user_entry NAME` sets `uid`, `gid` and `home` from /etc/passwd
    /// with builtins (an `id` or `getent` started costs milliseconds on every run), from getent where the
    /// account lives elsewhere; returns 1, all three empty, when there is no such user. Ends with a newline: scripts follow it.
    static let userEntry = #"""
    user_entry() {
      uid= gid= home=
      { while IFS=: read -r n _ i g _ h _; do [ "$n" = "$1" ] && { uid=$i gid=$g home=$h; return 0; }; done </etc/passwd; } 2>/dev/null
      e=$(getent passwd "$1" 2>/dev/null) || return 1
      e=${e#*:*:}; uid=${e%%:*} e=${e#*:}; gid=${e%%:*} e=${e#*:*:}; home=${e%%:*}
    }

    """#

    /// `stat` of a path (of its link's final target with `follow`).
    static func stat(_ path: String, follow: Bool) -> Observation {
        .command(["stat"] + (follow ? ["-L"] : []) + ["-c", statFormat, "--", path])
    }

    struct StatResult: Equatable {
        var state: FileState
        /// Access time, whole seconds since the epoch.
        var accessed: Int
    }

    /// Nil when the path (or the link's target) does not exist.
    static func parseStat(_ output: CommandOutput?) -> StatResult? {
        guard let output, output.status == 0 else { return nil }
        let fields = output.stdout.trimming("\n").split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 8, let mode = UInt32(fields[1], radix: 8) else { return nil }
        let kind: FileState.Kind
        switch fields[0] {
        case "regular file", "regular empty file": kind = .file
        case "directory": kind = .directory
        case "symbolic link": kind = .link
        default: kind = .other
        }
        let owner = fields[2] == "UNKNOWN" ? fields[4] : fields[2]
        let group = fields[3] == "UNKNOWN" ? fields[5] : fields[3]
        return StatResult(state: FileState(kind: kind, mode: mode, owner: owner, group: group, modified: Double(fields[7]) ?? 0),
                          accessed: Int(fields[6]) ?? 0)
    }

    /// `find` listing of everything below a directory (not the directory itself), NUL-separated.
    static func tree(_ path: String, follow: Bool) -> Observation {
        .command(["find"] + (follow ? ["-H"] : []) + [path, "-mindepth", "1", "-printf", "%y\t%m\t%u\t%g\t%p\\0"])
    }

    static func parseTree(_ output: CommandOutput?) -> [(path: String, state: FileState)]? {
        guard let output, output.status == 0 else { return nil }
        return output.stdout.split(separator: "\0").compactMap { entry in
            let fields = entry.split(separator: "\t", maxSplits: 4, omittingEmptySubsequences: false)
            guard fields.count == 5, let mode = UInt32(fields[1], radix: 8) else { return nil }
            let kind: FileState.Kind = fields[0] == "d" ? .directory : fields[0] == "l" ? .link : fields[0] == "f" ? .file : .other
            return (String(fields[4]), FileState(kind: kind, mode: mode, owner: String(fields[2]), group: String(fields[3])))
        }
    }

    /// Whether a directory has any entry.
    static func firstEntry(_ path: String) -> Observation {
        .command(["find", path, "-mindepth", "1", "-maxdepth", "1", "-print", "-quit"])
    }

    /// Link count and identity (`%h %d:%i`) of a path, for hard links.
    static func identity(_ path: String) -> Observation {
        .command(["stat", "-c", "%h %d:%i", "--", path])
    }

    /// Seconds since the epoch of a wall-clock time in the host's own time zone, as
    /// Ansible's `time.mktime` computes it there.
    static func epoch(_ wallClock: String) -> Observation {
        .command(["date", "-d", wallClock, "+%s"])
    }

    /// Whether a shell glob matches anything (Python's `glob.glob` for `creates`/`removes`).
    /// The pattern is an argument, never part of the script.
    static func glob(_ pattern: String) -> Observation {
        .command(["/bin/sh", "-c", "IFS=; set -- $1; [ -e \"$1\" ] || [ -L \"$1\" ]", "sh", pattern])
    }
}

extension StringProtocol {
    /// The text without `character` repeated at either end.
    func trimming(_ character: Character) -> String {
        var s = Substring(self)
        while s.last == character { s.removeLast() }
        while s.first == character { s.removeFirst() }
        return String(s)
    }
}
