import Provisioner

/// Ansible's `systemd_service` (also answering to `service` and `systemd`): a
/// unit masked or not, enabled or not, started, stopped, restarted or reloaded,
/// in the system or a user's manager, after an optional daemon-reload.
struct ServiceModule: Module {
    static let name = "service"
    static let aliases = ["systemd", "systemd_service"]
    static let summary = "Manage systemd units: enabled, started, restarted, masked"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("name", .string, aliases: ["service", "unit"], doc: "the unit (foo or foo.service)"),
        ArgumentSpec("state", .string, choices: ["started", "stopped", "restarted", "reloaded"],
                     doc: "started/stopped converge; restarted and reloaded always act"),
        ArgumentSpec("enabled", .bool, doc: "whether the unit starts at boot"),
        ArgumentSpec("masked", .bool, doc: "whether the unit is masked (cannot be started at all)"),
        ArgumentSpec("daemon_reload", .bool, default: false, aliases: ["daemon-reload"],
                     doc: "run daemon-reload first, so changed unit files are read"),
        ArgumentSpec("daemon_reexec", .bool, default: false, aliases: ["daemon-reexec"], doc: "run daemon-reexec first"),
        ArgumentSpec("scope", .string, default: "system", choices: ["system", "user", "global"],
                     doc: "the system manager, the connecting user's own, or all users' (enable/mask only)"),
        ArgumentSpec("no_block", .bool, default: false, doc: "do not wait for start/stop jobs to finish"),
        ArgumentSpec("force", .bool, default: false, doc: "override existing symlinks when enabling or masking"),
    ]

    let unit: String?
    let state: String?
    let enabled: Bool?
    let masked: Bool?
    let daemonReload: Bool
    let daemonReexec: Bool
    let scope: String
    let noBlock: Bool
    let force: Bool

    init(_ arguments: ModuleArguments) throws {
        unit = arguments.string("name")
        state = arguments.string("state")
        enabled = arguments["enabled"].flatMap(ModuleArguments.boolean)
        masked = arguments["masked"].flatMap(ModuleArguments.boolean)
        daemonReload = arguments.bool("daemon_reload")
        daemonReexec = arguments.bool("daemon_reexec")
        scope = arguments.string("scope") ?? "system"
        noBlock = arguments.bool("no_block")
        force = arguments.bool("force")
        if state == nil && enabled == nil && masked == nil && !daemonReload && !daemonReexec {
            throw ModuleError("one of the following is required: state, enabled, masked, daemon_reload, daemon_reexec", argument: "state")
        }
        if unit == nil {
            for (given, argument) in [(state != nil, "state"), (enabled != nil, "enabled"), (masked != nil, "masked")] where given {
                throw ModuleError("missing parameter(s) required by '\(argument)': name", argument: argument)
            }
        }
        if let unit, let glob = ["*", "?", "["].first(where: { unit.contains($0) }) {
            throw ModuleError("This module does not currently support using glob patterns, found '\(glob)' in service name: \(unit)",
                              argument: "name")
        }
        if scope == "global" && state != nil {
            throw ModuleError("state cannot be managed in the global scope (there is no global manager to start units in)",
                              argument: "state")
        }
    }

    // MARK: Observations

    /// `systemctl` for the chosen manager. A user manager is found through its runtime
    /// directory, which a non-login session (ssh, sudo) does not set; like Ansible, it is
    /// derived from the uid the command runs as, which only the host knows under `become`.
    /// The script is constant: the unit and verb are its arguments.
    static let userManager = ["/bin/sh", "-c",
                              "export XDG_RUNTIME_DIR=\"${XDG_RUNTIME_DIR:-/run/user/$(id -u)}\"; exec systemctl --user \"$@\"",
                              "systemctl"]

    func systemctl(_ context: ModuleContext) -> [String] {
        switch scope {
        case "user": return ServiceModule.userManager
        case "global": return ["systemctl", "--global"]
        default: return ["systemctl"]
        }
    }

    func enabledProbe(_ context: ModuleContext) -> [String] { systemctl(context) + ["is-enabled", unit ?? ""] }
    func activeProbe(_ context: ModuleContext) -> [String] { systemctl(context) + ["is-active", unit ?? ""] }

    /// Why systemd cannot be used here; nil when it can (or facts were not gathered to say otherwise).
    func unavailable(_ context: ModuleContext) -> String? {
        context.systemdMissing("cannot manage \(unit ?? "units")")
    }

    func observations(_ context: ModuleContext) -> [Observation] {
        guard unit != nil, unavailable(context) == nil else { return [] }
        var wanted: [Observation] = [.command(enabledProbe(context))]
        if state != nil { wanted.append(.command(activeProbe(context))) }
        return wanted
    }

    // MARK: Plan

    /// Unit file states for which `is-enabled` says the unit exists (systemctl(1)).
    static let knownStates: Set<String> = ["enabled", "enabled-runtime", "linked", "linked-runtime", "masked", "masked-runtime",
                                           "static", "indirect", "disabled", "generated", "transient", "alias"]

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        if let reason = unavailable(context) { return .failed(reason) }
        var changes = [reload("daemon-reload", daemonReload, context), reload("daemon-reexec", daemonReexec, context)].compactMap { $0 }
        guard let unit else { return Plan(changes: changes) }
        let unitFile = observed.command(enabledProbe(context))
        let unitFileState = unitFile?.stdout.trimming("\n").trimming(" ") ?? ""
        let found = ServiceModule.knownStates.contains(unitFileState)
        let active = observed.command(activeProbe(context))?.stdout.trimming("\n") ?? "unknown"
        var result = ValueDict([("name", .string(unit))])
        result["status"] = .dict(ValueDict([("ActiveState", .string(active)), ("UnitFileState", .string(unitFileState))]))
        // Masking works on units that are not installed yet; the rest needs the unit.
        if let change = maskChange(unit, unitFileState, context) { changes.append(change) }
        if enabled != nil || state != nil, !found {
            // In check mode a unit file that an earlier task installs is not there yet (a bundle's --dry-run: the unit
            // copied, then started): what would be done is planned, and the plan says so. Otherwise an error.
            guard context.checkMode else { return .failed("Could not find the requested service \(unit): host") }
            if enabled == true { changes.append(command("enable", unit, context)) }
            if let state, let change = stateChange(state, unit, "inactive", context) { changes.append(change) }
            for index in changes.indices { changes[index].summary += " (\(unit) is not installed yet)" }
            return Plan(changes: changes, result: ValueDict([("name", .string(unit))]))
        }
        if let enabled {
            let isEnabled = unitFile?.status == 0 && !["enabled-runtime", "indirect", "alias"].contains(unitFileState)
            if isEnabled != enabled {
                changes.append(command(enabled ? "enable" : "disable", unit, context,
                                       diff: TextDiff(label: "unit \(unit)", before: "enabled: \(isEnabled)\n", after: "enabled: \(enabled)\n")))
            }
            result["enabled"] = .bool(enabled)
        }
        if let state {
            if let change = stateChange(state, unit, active, context) { changes.append(change) }
            result["state"] = .string(state == "stopped" ? "stopped" : "started")
        }
        return Plan(changes: changes, result: result)
    }

    // MARK: Aspects

    func reload(_ verb: String, _ wanted: Bool, _ context: ModuleContext) -> Change? {
        wanted ? Change(verb, actions: [.run(Command(systemctl(context) + [verb]))]) : nil
    }

    func command(_ verb: String, _ unit: String, _ context: ModuleContext, diff: TextDiff? = nil) -> Change {
        var argv = systemctl(context)
        if noBlock { argv.append("--no-block") }
        if force { argv.append("--force") }
        return Change("\(verb) \(unit)", diff: diff, actions: [.run(Command(argv + [verb, unit]))])
    }

    func maskChange(_ unit: String, _ unitFileState: String, _ context: ModuleContext) -> Change? {
        guard let masked, masked != (unitFileState == "masked") else { return nil }
        return command(masked ? "mask" : "unmask", unit, context,
                       diff: TextDiff(label: "unit \(unit)", before: "masked: \(!masked)\n", after: "masked: \(masked)\n"))
    }

    /// started/stopped converge on `is-active`; restarted and reloaded always act
    /// (a stopped unit is started instead), as Ansible does.
    func stateChange(_ state: String, _ unit: String, _ active: String, _ context: ModuleContext) -> Change? {
        let running = active == "active" || active == "activating"
        let verb: String
        switch state {
        case "started":
            guard !running else { return nil }
            verb = "start"
        case "stopped":
            guard running || active == "deactivating" else { return nil }
            verb = "stop"
        case "restarted":
            verb = running ? "restart" : "start"
        default:
            verb = running ? "reload" : "start"
        }
        let after = state == "stopped" ? "inactive" : "active"
        return command(verb, unit, context,
                       diff: after == active ? nil : TextDiff(label: "unit \(unit)", before: "state: \(active)\n", after: "state: \(after)\n"))
    }
}
