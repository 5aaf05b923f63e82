import Foundation
import Provisioner

/// What quadlet tasks read from a host. Per scope (root's units, each user's) one listing shared by every
/// task of that scope: the unit folder's files with their mtimes and contents, and the state of every
/// service they generate, from one `systemctl list-units` and one `stat`. Per task one check, made of shell builtins while the
/// wanted files equal the installed ones; only when they differ does it run `podman --version` and the
/// host's own generator on a scratch copy of the unit folder with the wanted files in place.
enum QuadletProbe {
    /// Sets `dir` (the unit folder of scope $1, user $2) and the user's `uid` (`HostProbes.userEntry`);
    /// prints "nouser" and exits when there is no such user.
    static let unitFolder = HostProbes.userEntry + #"""
    if [ "$scope" = user ]; then
      user_entry "$user" && [ -n "$home" ] || { echo nouser; exit 0; }
      dir=$home/.config/containers/systemd
    else
      dir=/etc/containers/systemd
    fi
    """#

    // MARK: The listing (one per scope)

    static let listingScript = """
    # Braces, not a subshell: it is only called inside $(...), whose subshell it may end with exec.
    as_user() {
    \(PodmanScope.readerScript)
    }
    scope=$1 user=$2
    \(unitFolder)
    if [ "$scope" = user ]; then sc() { as_user "$user" systemctl --user "$@"; }; else sc() { systemctl "$@"; }; fi
    [ -d "$dir" ] || { echo "dir 0 $dir"; exit 0; }
    echo "dir 1 $dir"
    cd "$dir" || exit 1
    set --
    for f in *.container *.volume *.network *.pod *.kube *.image *.build *.d/*.conf; do [ -f "$f" ] && set -- "$@" "$f"; done
    [ $# -gt 0 ] || exit 0
    set -f
    services=
    for f; do
      case $f in *.d/*) continue ;; esac
      n=${f%.*} t=${f##*.}
      case $t in container|kube) s=$n.service ;; *) s=$n-$t.service ;; esac
      services="$services $s"
    done
    if [ "$scope" = user ]; then runtime=/run/user/$uid/systemd; else runtime=/run/systemd; fi
    # A unit named by ServiceName= is in the generator's folder once generated (and not loaded before), so
    # that folder's services stand in for reading every file for the key.
    set +f
    for g in "$runtime"/generator/*.service; do
      [ -f "$g" ] || continue
      case $g in *@.service) continue ;; esac
      case "$services " in *" ${g##*/} "*) ;; *) services="$services ${g##*/}" ;; esac
    done
    set -f
    # The files' mtimes and sizes and, in the same stat, when each service started (its invocation link,
    # made at each start) and when the generator last wrote it (the last daemon-reload): absolute paths.
    paths=
    for s in $services; do paths="$paths $runtime/units/invocation:$s $runtime/generator/$s"; done
    stat -c 'f %Y %s %n' -- "$@" $paths 2>/dev/null
    printf 'blob '; cat -- "$@" | base64 -w0; echo
    # The services' states from one ListUnits call.
    if out=$(sc list-units --all --plain --no-legend --no-pager -- $services 2>&1); then
      printf 'units\n%s\n' "$out"
    else
      echo "manager $(printf '%s' "$out" | base64 -w0)"; exit 0
    fi
    echo "services$services"
    exit 0
    """

    static func listing(_ scope: PodmanScope) -> Observation {
        .command(["/bin/sh", "-c", listingScript, "quadlet-listing", scope.user == nil ? "system" : "user", scope.user ?? ""])
    }

    struct Installed: Equatable, Sendable {
        var modified: Int
        var content: [UInt8]
    }

    struct Listing: Equatable, Sendable {
        var userMissing = false
        var directory: String?
        var directoryExists = false
        /// Unit files and drop-ins, relative to the folder (`web.container`, `web.container.d/10.conf`).
        var files: [String: Installed] = [:]
        /// Each service's LoadState, ActiveState, SubState and (when running) ActiveEnterTimestamp ("@SECONDS").
        var services: [String: [String: String]] = [:]
        /// When the generator last wrote each service (the last daemon-reload), seconds.
        var generated: [String: Int] = [:]
        /// Why the (user) manager could not be asked.
        var managerError: String?
    }

    static func parseListing(_ output: CommandOutput?) -> Listing? {
        guard let output, output.status == 0 else { return nil }
        var listing = Listing()
        var sizes: [(String, Int, Int)] = []
        var blob: [UInt8] = []
        var inUnits = false
        for line in output.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            let fields = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
            if inUnits && fields[0] != "services" {
                // list-units: NAME LOAD ACTIVE SUB DESCRIPTION (a unit's name has a suffix: never "services").
                let words = line.split(separator: " ").map(String.init)
                if words.count >= 4 {
                    listing.services[words[0], default: [:]].merge(["LoadState": words[1], "ActiveState": words[2], "SubState": words[3]]) { $1 }
                }
                continue
            }
            switch fields[0] {
            case "nouser": listing.userMissing = true
            case "dir" where fields.count >= 3:
                listing.directoryExists = fields[1] == "1"
                listing.directory = fields.dropFirst(2).joined(separator: " ")
            case "f" where fields.count == 4 && fields[3].hasPrefix("/"):
                // A runtime file of a service (the unit files' names are relative).
                let path = fields[3]
                guard let modified = Int(fields[1]), let slash = path.lastIndex(of: "/") else { break }
                let name = String(path[path.index(after: slash)...])
                if name.hasPrefix("invocation:") {
                    listing.services[String(name.dropFirst(11)), default: [:]]["ActiveEnterTimestamp"] = "@\(modified)"
                } else {
                    listing.generated[name] = modified
                }
            case "f" where fields.count == 4:
                if let modified = Int(fields[1]), let size = Int(fields[2]) { sizes.append((fields[3], modified, size)) }
            case "blob": blob = decode(fields.count > 1 ? fields[1] : "")
            case "units": inUnits = true
            case "services":
                inUnits = false
                // Services list-units did not show are not loaded (never generated, or no daemon-reload since).
                for name in line.split(separator: " ").dropFirst().map(String.init) where listing.services[name]?["LoadState"] == nil {
                    listing.services[name, default: [:]].merge(["LoadState": "not-found", "ActiveState": "inactive", "SubState": "dead"]) { $1 }
                }
            case "manager": listing.managerError = String(decoding: decode(fields.count > 1 ? fields[1] : ""), as: UTF8.self).trimmingTrailingNewlines
            default: break
            }
        }
        var offset = 0
        for (name, modified, size) in sizes {
            // A file that changed between stat and cat makes the sizes disagree: better no listing than a wrong one.
            guard offset + size <= blob.count else { return nil }
            listing.files[name] = Installed(modified: modified, content: Array(blob[offset..<offset + size]))
            offset += size
        }
        return offset == blob.count ? listing : nil
    }

    // MARK: The check (one per task)

    static let checkScript = """
    scope=$1 user=$2 file=$3 managed=$4; shift 4
    \(unitFolder)
    nl='
    '
    # Whether file $1 holds exactly the text $2 (builtins only: this runs for every task on every run).
    holds() {
      [ -f "$1" ] || return 1
      c=
      while IFS= read -r l || [ -n "$l" ]; do c="$c$l$nl"; done < "$1"
      [ "$c" = "$2" ]
    }
    # The arguments: S (NAME TEXT)*S N (PATH TEXT)*N; walked without shifting, for the generator below.
    i=0 j=0 n= same=1 wanted=$nl skip=$((1 + 2 * $1))
    for x; do
      i=$((i+1))
      [ "$i" -le "$skip" ] && continue
      if [ -z "$n" ]; then n=$x; continue; fi
      if [ $((j % 2)) = 0 ]; then path=$x wanted="$wanted$x$nl"; else holds "$dir/$path" "$x" || same=0; fi
      j=$((j+1))
    done
    if [ "$managed" = 1 ] && [ -d "$dir/$file.d" ]; then
      for f in "$dir/$file.d"/*.conf; do
        [ -f "$f" ] || continue
        case $wanted in *"$nl$file.d/${f##*/}$nl"*) ;; *) same=0 ;; esac
      done
    fi
    [ "$same" = 1 ] && { echo same; exit 0; }
    """ + "\n" + #"""
    version=$(podman --version 2>/dev/null) || version=-
    version=${version##* }
    G=/usr/lib/systemd/system-generators/podman-system-generator
    [ -x "$G" ] || G=/usr/libexec/podman/quadlet
    [ -x "$G" ] || { echo "none $version"; exit 0; }
    tmp=$(mktemp -d) || exit 1
    trap 'rm -rf "$tmp"' EXIT
    mkdir "$tmp/u" "$tmp/s" "$tmp/d"
    [ -d "$dir" ] && cp -a "$dir/." "$tmp/u/"
    [ "$scope" = system ] && rm -rf "$tmp/u/users"
    [ "$managed" = 1 ] && rm -rf "$tmp/u/$file.d"
    n=$1; shift
    while [ "$n" -gt 0 ]; do printf '%s' "$2" > "$tmp/s/$1"; shift 2; n=$((n-1)); done
    n=$1; shift
    while [ "$n" -gt 0 ]; do
      case $1 in */*) mkdir -p "$tmp/d/${1%/*}" ;; esac
      printf '%s' "$2" > "$tmp/d/$1" || exit 1
      shift 2; n=$((n-1))
    done
    cp -a "$tmp/d/." "$tmp/u/"
    for s in "$tmp/s"/*; do [ -f "$s" ] && [ ! -e "$tmp/u/${s##*/}" ] && cp "$s" "$tmp/u/"; done
    flag=; [ "$scope" = user ] && flag=--user
    if QUADLET_UNIT_DIRS=$tmp/u "$G" --dryrun $flag >/dev/null 2>"$tmp/err"; then echo "ok $version"
    else echo "fail $version $(base64 -w0 < "$tmp/err")"; fi
    """#

    enum Check: Equatable, Sendable {
        /// The wanted files are the installed ones: nothing to check.
        case same
        /// The generator accepts them (podman's version).
        case passed(String?)
        /// No quadlet generator (podman missing or older than 4.4).
        case noGenerator(String?)
        /// The generator's complaints about this task's unit (others' broken files are not ours).
        case failed(String?, [String])
    }

    /// The check for one task: the wanted files (path relative to the unit folder, text), stand-ins for
    /// units it references that the folder lacks (check mode), whether it owns NAME.TYPE.d/.
    static func check(_ scope: PodmanScope, file: String, managesDropIns: Bool,
                      standIns: [(name: String, text: String)], wanted: [(path: String, text: String)]) -> Observation {
        var argv = ["/bin/sh", "-c", checkScript, "quadlet-check", scope.user == nil ? "system" : "user", scope.user ?? "", file, managesDropIns ? "1" : "0"]
        argv.append(String(standIns.count))
        for standIn in standIns { argv += [standIn.name, standIn.text] }
        argv.append(String(wanted.count))
        for file in wanted { argv += [file.path, file.text] }
        return .command(argv)
    }

    static func parseCheck(_ output: CommandOutput?, file: String) -> Check? {
        guard let output, output.status == 0 else { return nil }
        let fields = output.stdout.trimmingTrailingNewlines.split(separator: " ", maxSplits: 2).map(String.init)
        let version = fields.count > 1 && fields[1] != "-" ? fields[1] : nil
        switch fields.first {
        case "same"?: return .same
        case "ok"?: return .passed(version)
        case "none"?: return .noGenerator(version)
        case "fail"?:
            let ours = generatorErrors(String(decoding: decode(fields.count > 2 ? fields[2] : ""), as: UTF8.self), file: file)
            return ours.isEmpty ? .passed(version) : .failed(version, ours)
        case "nouser"?: return .same
        default: return nil
        }
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
