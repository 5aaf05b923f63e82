import Provisioner

/// Ansible's `service_facts`: systemd's services as the fact `services`, each with its state
/// (running, stopped, ...), its enablement status and source `systemd`, in one read-only probe.
struct ServiceFactsModule: Module {
    static let name = "service_facts"
    static let summary = "Read systemd's services into the services fact"
    static let returnsFacts = true
    static let arguments: [ArgumentSpec] = []

    init(_ arguments: ModuleArguments) throws {}

    /// The units systemd has loaded, its unit files, and the ActiveState of unit files not loaded.
    static let script = #"""
    command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ] || { echo nosystemd; exit 0; }
    echo @units; systemctl list-units --no-pager --type service --all --plain --no-legend 2>/dev/null
    echo @files; files=$(systemctl list-unit-files --no-pager --type service --all --no-legend 2>/dev/null); printf '%s\n' "$files"
    echo @show
    names=$(printf '%s\n' "$files" | awk '$1 ~ /\.service$/ {print $1}')
    [ -n "$names" ] && systemctl show --property=Id,ActiveState -- $names 2>/dev/null
    exit 0
    """#

    static let probe = Observation.command(["/bin/sh", "-c", script])

    func observations(_ context: ModuleContext) -> [Observation] { [ServiceFactsModule.probe] }

    static let badStates: Set<String> = ["not-found", "masked", "failed"]

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        let text = observed.command(ServiceFactsModule.probe.argv)?.stdout ?? ""
        var services = ValueDict(), section = "", active: [String: String] = [:], id: String?
        var files: [(String, String)] = []
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("@") { section = line; continue }
            switch section {
            case "@units" where line.contains(".service"):
                let fields = line.split(separator: " ").map(String.init)
                guard fields.count >= 4 else { continue }
                // As Ansible: a bad LOAD/ACTIVE/SUB word is the status, else the load state is.
                let status = fields.dropLast().first { ServiceFactsModule.badStates.contains($0) } ?? fields[2]
                services[fields[0]] = .dict(ServiceFactsModule.entry(fields[0], state: fields[3] == "running" ? "running" : "stopped",
                                                                     status: status))
            case "@files" where line.contains(".service"):
                let fields = line.split(separator: " ").map(String.init)
                if fields.count >= 2 { files.append((fields[0], fields[1])) }
            case "@show":
                if line.hasPrefix("Id=") { id = String(line.dropFirst(3)) }
                if line.hasPrefix("ActiveState="), let name = id { active[name] = String(line.dropFirst("ActiveState=".count)) }
            default:
                continue
            }
        }
        for (name, status) in files {
            if let known = services[name]?.dict {
                if let current = known["status"]?.string, !ServiceFactsModule.badStates.contains(current) {
                    services[name] = .dict(known.merging(["status": .string(status)]))
                }
            } else {
                services[name] = .dict(ServiceFactsModule.entry(name, state: active[name] ?? "unknown", status: status))
            }
        }
        return Plan(result: ["ansible_facts": .dict(["services": .dict(services)])])
    }

    static func entry(_ name: String, state: String, status: String) -> ValueDict {
        ValueDict([("name", .string(name)), ("state", .string(state)), ("status", .string(status)), ("source", "systemd")])
    }
}
