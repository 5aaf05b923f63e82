import Provisioner

/// Ansible's `group` (Linux): a group present with a gid, or absent; plans
/// `groupadd`, `groupmod` and `groupdel`.
struct GroupModule: Module {
    static let name = "group"
    static let summary = "Manage groups"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("name", .string, required: true, doc: "the group's name"),
        ArgumentSpec("state", .string, default: "present", choices: ["present", "absent"], doc: "whether the group should exist"),
        ArgumentSpec("gid", .int, doc: "group id"),
        ArgumentSpec("non_unique", .bool, default: false, doc: "allow a gid another group has (needs gid)"),
        ArgumentSpec("system", .bool, default: false, doc: "make a system group (only when it is created)"),
    ]

    let name: String
    let present: Bool
    let gid: Int?
    let nonUnique: Bool
    let system: Bool

    init(_ arguments: ModuleArguments) throws {
        name = arguments.string("name") ?? ""
        present = arguments.string("state") != "absent"
        gid = arguments.int("gid")
        nonUnique = arguments.bool("non_unique")
        system = arguments.bool("system")
        if name.isEmpty || name.contains(":") || name.contains("\n") {
            throw ModuleError("'\(name)' is not a valid group name", argument: "name")
        }
        if nonUnique && gid == nil {
            throw ModuleError("non_unique is True but all of the following are missing: gid", argument: "non_unique")
        }
    }

    var probe: [String] { ["getent", "group", name] }

    func observations(_ context: ModuleContext) -> [Observation] { [.command(probe)] }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        // getent also answers for a gid; only an entry with this name counts.
        let current = AccountDatabase.groups(observed.command(probe)).first { $0.name == name }
        var result = ValueDict([("name", .string(name)), ("state", .string(present ? "present" : "absent")), ("system", .bool(system))])
        if let gid = gid ?? current?.gid, present { result["gid"] = .int(gid) }
        let change = present ? (current.map(gidChange) ?? creation()) : current.map { _ in removal() }
        return Plan(changes: [change].compactMap { $0 }, result: result)
    }

    // MARK: Aspects

    func creation() -> Change {
        var argv = ["groupadd"]
        if let gid { argv += ["-g", String(gid)] + (nonUnique ? ["-o"] : []) }
        if system { argv.append("-r") }
        return Change("create group \(name)", diff: TextDiff(label: "group \(name)", before: "", after: "\(name): present\n"),
                      actions: [.run(Command(argv + [name]))])
    }

    func gidChange(_ current: AccountDatabase.Group) -> Change? {
        guard let gid, gid != current.gid else { return nil }
        return Change("gid of \(name): \(current.gid) -> \(gid)",
                      diff: TextDiff(label: "group \(name)", before: "gid: \(current.gid)\n", after: "gid: \(gid)\n"),
                      actions: [.run(Command(["groupmod", "-g", String(gid)] + (nonUnique ? ["-o"] : []) + [name]))])
    }

    func removal() -> Change {
        Change("remove group \(name)", diff: TextDiff(label: "group \(name)", before: "\(name): present\n", after: ""),
               actions: [.run(Command(["groupdel", name]))])
    }
}
