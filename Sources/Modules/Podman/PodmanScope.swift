import Foundation
import Provisioner

/// Whose podman a task works with: root's (`scope: system`) or a user's (`scope: user`, `user: NAME`).
/// A user's podman and systemd manager are reached through `runner`, a constant script that runs the rest
/// of the command line as that user with their `XDG_RUNTIME_DIR` — from root (runuser) or as the user
/// already (`become_user`), so a play connected as root observes every user's state in its one round trip.
struct PodmanScope: Hashable, Sendable {
    static let specs: [ArgumentSpec] = [
        ArgumentSpec("scope", .string, default: "system", choices: ["system", "user"],
                     doc: "system: root's podman and systemd; user: the podman and systemd manager of `user` (rootless)"),
        ArgumentSpec("user", .string, doc: "with scope: user, the account that owns it (its manager must run: linger)"),
    ]

    /// nil for root's podman.
    let user: String?

    init(user: String?) { self.user = user }

    init(_ arguments: ModuleArguments) throws {
        let user = arguments.string("user")
        if arguments.string("scope") == "user" {
            guard let user else { throw ModuleError("scope: user needs user: the account that runs it", argument: "scope") }
            guard PodmanScope.isUserName(user) else { throw ModuleError("'\(user)' is not a user name", argument: "user") }
            self.user = user
        } else {
            if user != nil { throw ModuleError("user: is for scope: user (rootless); add scope: user or drop user:", argument: "user") }
            self.user = nil
        }
    }

    static func isUserName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix("-") && !name.contains("/") && !name.contains(":")
            && !name.contains(where: { $0.isWhitespace || $0 == "\0" })
    }

    /// Finds user $1 (`HostProbes.userEntry`) and who runs this (the effective uid, from /proc where it can);
    /// sets XDG_RUNTIME_DIR and runs the rest of the command line at once when that is the user already.
    static let userSwitch = HostProbes.userEntry + #"""
    u=$1; shift
    user_entry "$u" || { echo "there is no user named $u" >&2; exit 125; }
    me=; { while read -r k _ e _; do [ "$k" = Uid: ] && { me=$e; break; }; done </proc/self/status; } 2>/dev/null
    [ -n "$me" ] || me=$(id -u)
    export XDG_RUNTIME_DIR=/run/user/$uid
    cd / || exit 125
    [ "$me" = "$uid" ] && exec "$@"
    """#

    /// Runs "$@" (after the user name) as the user: from root through runuser (a session as su opens one:
    /// the user's limits), as that user directly.
    static let runnerScript = userSwitch + "\nexec runuser -u \"$u\" -- \"$@\"\n"

    /// The same for what only reads the user's state (probes): setpriv where the host has it, a few
    /// milliseconds cheaper than runuser's session, with the variables runuser would set.
    static let readerScript = userSwitch + #"""

    if [ -n "$home" ] && command -v setpriv >/dev/null 2>&1; then
      HOME=$home USER=$u LOGNAME=$u; export HOME USER LOGNAME
      exec setpriv --reuid="$uid" --regid="$gid" --init-groups -- "$@"
    fi
    exec runuser -u "$u" -- "$@"
    """#

    var runner: [String] { user.map { ["/bin/sh", "-c", PodmanScope.runnerScript, "as-user", $0] } ?? [] }

    /// `runner` for probes (`readerScript`).
    var reader: [String] { user.map { ["/bin/sh", "-c", PodmanScope.readerScript, "as-user", $0] } ?? [] }

    var manager: SystemdManager { SystemdManager(user: user, runner: runner) }

    func podman(_ arguments: [String]) -> [String] { runner + ["podman"] + arguments }

    /// A podman command for a plan, shown as what it does ("as alice: podman ...").
    func podmanCommand(_ arguments: [String], stdin: [UInt8]? = nil) -> Command {
        labeled(podman(arguments), "podman " + arguments.joined(separator: " "), stdin: stdin)
    }

    /// `argv` (which starts with the runner) shown as `shown`, prefixed with the user it runs as.
    func labeled(_ argv: [String], _ shown: String, stdin: [UInt8]? = nil) -> Command {
        Command(argv, stdin: stdin, label: user.map { "as \($0): \(shown)" } ?? shown)
    }

    func systemctl(_ arguments: [String]) -> [String] { manager.systemctl(arguments) }

    /// For messages: "root's podman" / "alice's podman".
    var owner: String { user.map { "\($0)'s" } ?? "root's" }
}

/// podman's version as `podman --version` prints its last word ("5.4.2", "5.0.0-dev").
struct PodmanVersion: Comparable, CustomStringConvertible, Sendable {
    var parts: [Int]
    var text: String

    init?(_ text: String) {
        let numbers = text.split(separator: "-").first?.split(separator: ".").map { Int($0) } ?? []
        guard numbers.count >= 2, numbers.allSatisfy({ $0 != nil }) else { return nil }
        parts = numbers.compactMap { $0 }
        self.text = text
    }

    var description: String { text }

    static func < (a: PodmanVersion, b: PodmanVersion) -> Bool {
        for index in 0..<max(a.parts.count, b.parts.count) {
            let x = index < a.parts.count ? a.parts[index] : 0, y = index < b.parts.count ? b.parts[index] : 0
            if x != y { return x < y }
        }
        return false
    }

    static func == (a: PodmanVersion, b: PodmanVersion) -> Bool { !(a < b) && !(b < a) }
}

/// Port numbers wherever they are written (`-p`/PublishPort forms): each must be 1-65535.
enum PortSpec {
    /// Checks `[[ip:][host]:]container[/proto]`, ranges `a-b` included; throws naming the bad port.
    static func validate(_ spec: String, argument: String) throws {
        var text = Substring(spec.trimmingCharacters(in: .whitespaces))
        if let slash = text.lastIndex(of: "/") { text = text[..<slash] }
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            text = text[text.index(after: close)...].drop { $0 == ":" }
        }
        var parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        // ip:host:container: the ip is no port.
        if parts.count == 3 { parts.removeFirst() }
        guard (1...2).contains(parts.count), let container = parts.last, !container.isEmpty else {
            throw ModuleError("'\(spec)' is not a port mapping ([[ip:][hostPort]:]containerPort[/protocol])", argument: argument)
        }
        for part in parts where !part.isEmpty {
            for number in part.split(separator: "-", omittingEmptySubsequences: false) {
                guard let port = Int(number) else {
                    throw ModuleError("'\(spec)' is not a port mapping: '\(number)' is not a port number", argument: argument)
                }
                try check(port, argument: argument)
            }
        }
    }

    static func check(_ port: Int, argument: String) throws {
        guard (1...65535).contains(port) else {
            throw ModuleError("port \(port) is out of range (1-65535)", argument: argument)
        }
    }
}
