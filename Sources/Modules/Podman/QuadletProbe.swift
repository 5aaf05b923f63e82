import Foundation
import Provisioner

/// What one quadlet task reads from the host, in one probe (batched with every other task's):
/// the unit file and its drop-ins with their mtimes, the `restart_on` files' mtimes, the generated
/// service's state, and — only when the wanted files differ from the installed ones — the verdict of
/// the host's own generator on a scratch copy of the unit folder with the wanted files in place.
struct QuadletProbe: Sendable {
    /// The wanted files, relative to the unit folder (`NAME.TYPE`, `NAME.TYPE.d/10-x.conf`).
    struct Wanted: Sendable {
        var path: String
        var content: String
    }

    var scope: PodmanScope
    var file: String
    var service: String
    /// The task owns NAME.TYPE.d/: drop-ins there that it does not name are removed.
    var managesDropIns: Bool
    /// Run the generator check when the wanted files differ (state: present).
    var check: Bool
    var restartOn: [String]
    /// Stand-in units (name, text) for references the scratch folder lacks (check mode only).
    var standIns: [(name: String, text: String)]
    var wanted: [Wanted]

    var observation: Observation {
        var argv = ["/bin/sh", "-c", QuadletProbe.script, "quadlet", scope.user == nil ? "system" : "user", scope.user ?? "",
                    file, service, managesDropIns ? "1" : "0", check ? "1" : "0", String(restartOn.count)] + restartOn
        argv.append(String(standIns.count))
        for standIn in standIns { argv += [standIn.name, standIn.text] }
        argv.append(String(wanted.count))
        for file in wanted { argv += [file.path, file.content] }
        return .command(argv)
    }

    static let script = """
    as_user() (
    \(PodmanScope.runnerScript)
    )
    scope=$1 user=$2 file=$3 service=$4 managed=$5 check=$6; shift 6
    if [ "$scope" = user ]; then
      home=$(getent passwd "$user" | cut -d: -f6)
      [ -n "$home" ] || { echo nouser; exit 0; }
      dir=$home/.config/containers/systemd
      sc() { as_user "$user" systemctl --user "$@"; }
    else
      dir=/etc/containers/systemd
      sc() { systemctl "$@"; }
    fi
    if [ -d "$dir" ]; then echo "dir 1 $dir"; else echo "dir 0 $dir"; fi
    if [ -f "$dir/$file" ]; then echo "file $(stat -c %Y -- "$dir/$file") $(base64 -w0 < "$dir/$file")"; fi
    if [ -d "$dir/$file.d" ]; then
      echo dropins
      for f in "$dir/$file.d"/*.conf; do
        [ -f "$f" ] && echo "dropin $(stat -c %Y -- "$f") $(printf '%s' "${f##*/}" | base64 -w0) $(base64 -w0 < "$f")"
      done
    fi
    i=0 n=$1; shift
    while [ "$i" -lt "$n" ]; do
      echo "restart_on $i $(stat -c %Y -- "$1" 2>/dev/null || echo -)"; shift; i=$((i+1))
    done
    if out=$(sc show --timestamp=unix -p LoadState -p ActiveState -p SubState -p MainPID -p NeedDaemonReload \\
        -p ActiveEnterTimestamp -- "$service" 2>&1); then
      printf '%s\\n' "$out" | sed 's/^/unit /'
    else
      echo "manager $(printf '%s' "$out" | base64 -w0)"
    fi
    [ "$check" = 1 ] || exit 0
    G=/usr/lib/systemd/system-generators/podman-system-generator
    [ -x "$G" ] || G=/usr/libexec/podman/quadlet
    [ -x "$G" ] || { echo "check none"; exit 0; }
    tmp=$(mktemp -d) || exit 1
    trap 'rm -rf "$tmp"' EXIT
    mkdir "$tmp/u" "$tmp/s" "$tmp/d"
    n=$1; shift
    while [ "$n" -gt 0 ]; do printf '%s' "$2" > "$tmp/s/$1"; shift 2; n=$((n-1)); done
    same=1 n=$1; shift
    while [ "$n" -gt 0 ]; do
      case $1 in */*) mkdir -p "$tmp/d/${1%/*}" ;; esac
      printf '%s' "$2" > "$tmp/d/$1" || exit 1
      cmp -s "$tmp/d/$1" "$dir/$1" || same=0
      shift 2; n=$((n-1))
    done
    if [ "$managed" = 1 ] && [ -d "$dir/$file.d" ]; then
      for f in "$dir/$file.d"/*.conf; do [ -f "$f" ] && [ ! -f "$tmp/d/$file.d/${f##*/}" ] && same=0; done
    fi
    [ "$same" = 1 ] && { echo "check same"; exit 0; }
    [ -d "$dir" ] && cp -a "$dir/." "$tmp/u/"
    [ "$scope" = system ] && rm -rf "$tmp/u/users"
    [ "$managed" = 1 ] && rm -rf "$tmp/u/$file.d"
    cp -a "$tmp/d/." "$tmp/u/"
    for s in "$tmp/s"/*; do [ -f "$s" ] && [ ! -e "$tmp/u/${s##*/}" ] && cp "$s" "$tmp/u/"; done
    flag=; [ "$scope" = user ] && flag=--user
    if QUADLET_UNIT_DIRS=$tmp/u "$G" --dryrun $flag >/dev/null 2>"$tmp/err"; then echo "check ok"
    else echo "check fail $(base64 -w0 < "$tmp/err")"; fi
    """

    /// The probe's answer.
    struct State: Equatable, Sendable {
        enum Check: Equatable, Sendable {
            case notRun, same, passed, noGenerator
            /// The generator's complaints about this task's unit (others' broken files are not ours).
            case failed([String])
        }

        struct Installed: Equatable, Sendable {
            var modified: Int
            var content: [UInt8]
        }

        var userMissing = false
        var directory: String?
        var directoryExists = false
        var file: Installed?
        var dropInFolder = false
        var dropIns: [String: Installed] = [:]
        /// mtime of each `restart_on` file by position; nil when missing.
        var restartOn: [Int: Int] = [:]
        var unit: [String: String] = [:]
        /// Why the (user) manager could not be asked.
        var managerError: String?
        var check = Check.notRun

        var active: Bool { ["active", "activating", "reloading", "refreshing"].contains(unit["ActiveState"] ?? "") }
        var startedAt: Int? {
            guard let text = unit["ActiveEnterTimestamp"], text.hasPrefix("@") else { return nil }
            return Int(text.dropFirst())
        }
    }

    /// Reads the probe's lines; `file` is this task's unit file name, for picking its generator errors.
    static func parse(_ output: CommandOutput?, file: String) -> State? {
        guard let output, output.status == 0 else { return nil }
        var state = State()
        for line in output.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
            switch fields[0] {
            case "nouser": state.userMissing = true
            case "dir" where fields.count >= 3:
                state.directoryExists = fields[1] == "1"
                state.directory = fields.dropFirst(2).joined(separator: " ")
            case "file" where fields.count >= 2:
                state.file = State.Installed(modified: Int(fields[1]) ?? 0, content: decode(fields.count > 2 ? fields[2] : ""))
            case "dropins": state.dropInFolder = true
            case "dropin" where fields.count >= 3:
                let name = String(decoding: decode(fields[2]), as: UTF8.self)
                state.dropIns[name] = State.Installed(modified: Int(fields[1]) ?? 0, content: decode(fields.count > 3 ? fields[3] : ""))
            case "restart_on" where fields.count >= 3:
                if let index = Int(fields[1]) { state.restartOn[index] = Int(fields[2]) }
            case "unit":
                let pair = line.dropFirst(5).split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                if pair.count == 2 { state.unit[String(pair[0])] = String(pair[1]) }
            case "manager":
                state.managerError = String(decoding: decode(fields.count > 1 ? fields[1] : ""), as: UTF8.self).trimmingTrailingNewlines
            case "check" where fields.count >= 2:
                switch fields[1] {
                case "same": state.check = .same
                case "ok": state.check = .passed
                case "none": state.check = .noGenerator
                default:
                    let text = String(decoding: decode(fields.count > 2 ? fields[2] : ""), as: UTF8.self)
                    let ours = generatorErrors(text, file: file)
                    state.check = ours.isEmpty ? .passed : .failed(ours)
                }
            default: break
            }
        }
        return state
    }

    /// The generator's `converting "FILE": MESSAGE` lines for `file` (without its scratch paths).
    static func generatorErrors(_ text: String, file: String) -> [String] {
        let marker = "converting \"\(file)\": "
        return text.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: marker) else { return nil }
            var message = String(line[range.upperBound...])
            // "... in /tmp/tmp.X/u/NAME.container": the scratch path means nothing to the user.
            if let at = message.range(of: " in /", options: .backwards) { message = String(message[..<at.lowerBound]) }
            return message
        }
    }

    static func decode(_ text: String) -> [UInt8] {
        text.isEmpty ? [] : Data(base64Encoded: text).map { [UInt8]($0) } ?? []
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var s = Substring(self)
        while s.last == "\n" { s.removeLast() }
        return String(s)
    }
}
