import Provisioner

/// systemd-logind lingering for a user: with it, the user's own systemd manager
/// (user@UID.service) starts at boot and keeps running without a login, which rootless
/// podman containers run as user units need (container runtime standard §5.1).
///
/// logind records lingering as the empty file /var/lib/systemd/linger/USER. Enabling
/// starts the manager at once; when lingering is on but the manager is not running (it
/// was stopped, or the file was made by hand), the manager is started, so afterwards
/// the user's units can be managed either way.
struct LingerModule: Module {
    static let name = "linger"
    static let summary = "Let a user's systemd manager run without a login (loginctl enable-linger)"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("user", .string, required: true, aliases: ["name"], doc: "the user's name"),
        ArgumentSpec("state", .string, default: "enabled", choices: ["enabled", "disabled"],
                     doc: "enabled: lingering on and the user's manager running; disabled: lingering off"),
    ]

    static let lingerDirectory = "/var/lib/systemd/linger"

    /// Prints the uid and whether the user's manager runs ("active", as `systemctl is-active`
    /// says it); exits 2 without output when there is no such user. A process in the manager's
    /// init.scope says it runs without starting systemctl (~10 ms); where none is found there,
    /// systemctl is asked. The unified cgroup tree begins where this shell's own cgroup says
    /// (a container's tree, without a cgroup namespace, is below the host's).
    static let managerScript = HostProbes.userEntry + #"""
    user_entry "$1" || exit 2
    echo "$uid"
    if [ -r /sys/fs/cgroup/cgroup.controllers ]; then r=/sys/fs/cgroup; else r=/sys/fs/cgroup/unified; fi
    c=; { while IFS=: read -r h _ p; do [ "$h" = 0 ] && c=$p; done </proc/self/cgroup; } 2>/dev/null
    case $c in */user.slice/*) c=${c%%/user.slice/*} ;; */system.slice/*) c=${c%%/system.slice/*} ;; *) c=/nowhere ;; esac
    m=; { read -r m <"$r$c/user.slice/user-$uid.slice/user@$uid.service/init.scope/cgroup.procs"; } 2>/dev/null
    if [ -n "$m" ]; then echo active; else systemctl is-active "user@$uid.service"; fi
    """#

    let user: String
    let enabled: Bool

    init(_ arguments: ModuleArguments) throws {
        user = arguments.string("user") ?? ""
        enabled = arguments.string("state") != "disabled"
        if user.isEmpty || user.contains("/") || user.contains("\n") || user.hasPrefix(".") || user.hasPrefix("-") {
            throw ModuleError("'\(user)' is not a valid user name", argument: "user")
        }
        // logind names the file after the user; a uid would never match it.
        if user.allSatisfy(\.isNumber) {
            throw ModuleError("give the user's name, not a uid ('\(user)')", argument: "user")
        }
    }

    var lingerFile: String { LingerModule.lingerDirectory + "/" + user }
    var probe: [String] { ["/bin/sh", "-c", LingerModule.managerScript, "sh", user] }

    /// Why lingering cannot be managed here; nil when it can (or facts were not gathered to say otherwise).
    func unavailable(_ context: ModuleContext) -> String? {
        context.systemdMissing("lingering for \(user) needs systemd-logind")
    }

    func observations(_ context: ModuleContext) -> [Observation] {
        guard unavailable(context) == nil else { return [] }
        return [.file(path: lingerFile, content: false), .command(probe)]
    }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        if let reason = unavailable(context) { return .failed(reason) }
        let lingering = observed.file(lingerFile) != nil
        let answer = observed.command(probe)
        let lines = answer?.stdout.split(separator: "\n").map(String.init) ?? []
        let uid = answer?.status == 2 ? nil : lines.first.flatMap { Int($0) }
        let state = lines.count > 1 ? lines[1] : "unknown"
        let running = state == "active" || state == "activating"
        var result = ValueDict([("user", .string(user)), ("state", .string(enabled ? "enabled" : "disabled"))])
        if let uid { result["uid"] = .int(uid) }
        result["linger"] = .bool(enabled)

        guard enabled else {
            guard lingering else { return Plan(result: result) }
            // loginctl looks the name up; for a user deleted since, removing logind's record is all that is left.
            let action: Action = uid == nil ? .remove(path: lingerFile) : .run(Command(["loginctl", "disable-linger", user]))
            return Plan(changes: [Change("disable lingering for \(user)", diff: TextDiff(label: "linger \(user)", before: "linger: enabled\n", after: "linger: disabled\n"), actions: [action])],
                        result: result)
        }
        guard let uid else {
            // In check mode an earlier task that creates the user did not run.
            guard context.checkMode else { return .failed("no user named \(user); create it first (user module) or fix the name") }
            return Plan(changes: [enabling()], result: result)
        }
        if !lingering { return Plan(changes: [enabling()], result: result) }
        if running { return Plan(result: result) }
        let unit = "user@\(uid).service"
        return Plan(changes: [Change("start \(unit) (lingering is on but \(user)'s manager is \(state))",
                                     diff: TextDiff(label: "unit \(unit)", before: "state: \(state)\n", after: "state: active\n"),
                                     actions: [.run(Command(["systemctl", "start", unit]))])],
                    result: result)
    }

    /// `enable-linger` writes logind's record and asks for the user's manager without waiting for it; the
    /// `systemctl start` after it returns once the manager is up, so the next task's `systemctl --user` finds its bus.
    func enabling() -> Change {
        Change("enable lingering for \(user)", diff: TextDiff(label: "linger \(user)", before: "linger: disabled\n", after: "linger: enabled\n"),
               actions: [.run(Command(["loginctl", "enable-linger", user])), .run(Command(LingerModule.startManager(user)))])
    }

    static func startManager(_ user: String) -> [String] {
        ["/bin/sh", "-c", #"uid=$(id -u -- "$1") && systemctl start "user@$uid.service""#, "start-manager", user]
    }
}
