import Provisioner

/// containers.conf(5) for podman: keys set in named tables (`engine`,
/// `engine.runtimes`, `containers`, `network`, …) and keys removed, edited in
/// place so the file's comments and every other key stay.
///
/// podman merges containers.conf files (/usr/share, then /etc, then
/// containers.conf.d drop-ins and the user's file), each key overriding the ones
/// read before. So a missing file starts empty: a small file holding only what
/// differs is right, and it does not freeze the vendor's other defaults. Of the
/// drop-in folders, /etc/containers/containers.conf.d is read after
/// /etc/containers/containers.conf (podman 5.4 reads no containers.rootful.conf.d
/// and reads /usr/share/containers/containers.conf.d before /etc): a drop-in there
/// that sets a key the task sets, otherwise, or one it removes, fails the task.
struct ContainersConfModule: Module {
    static let name = "containers_conf"
    static let summary = "Edit containers.conf for podman: set and remove keys in its tables"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("settings", .dict, doc: "table name -> mapping of key -> value, e.g. {engine: {runtime: crun}}; "
            + "a dotted name is a nested table (engine.runtimes), and a mapping value a sub-table"),
        ArgumentSpec("remove", .list, doc: "keys to delete, as table.key (engine.runtime, engine.runtimes.crun)"),
    ] + ContainersConfigFile.specs("containers.conf")

    let file: ContainersConfigFile
    let settings: [(table: [String], keys: TOMLTable)]
    let removals: [(table: [String], key: String)]

    init(_ arguments: ModuleArguments) throws {
        file = try ContainersConfigFile(arguments, fileName: "containers.conf")
        settings = try (arguments.dict("settings") ?? ValueDict()).map { name, value in
            guard let keys = value.dict else {
                throw ModuleError("settings.\(name) must be a mapping of key -> value (a table of containers.conf), "
                    + "not \(value.typeName) \(value.json)", argument: "settings")
            }
            let table = try ContainersConfModule.tablePath(name, argument: "settings")
            return (table, try ContainersConfigFile.table(keys, at: name, argument: "settings"))
        }
        removals = try (arguments.strings("remove") ?? []).map { entry in
            let path = try ContainersConfModule.tablePath(entry, argument: "remove")
            guard path.count >= 2, let key = path.last else {
                throw ModuleError("remove entries are table.key (e.g. engine.runtime), not '\(entry)'", argument: "remove")
            }
            return (Array(path.dropLast()), key)
        }
        for (table, key) in removals {
            if let setting = settings.first(where: { $0.table == table }), setting.keys[key] != nil {
                throw ModuleError("\((table + [key]).joined(separator: ".")) is both set in settings and listed in remove",
                                  argument: "remove")
            }
        }
    }

    static func tablePath(_ name: String, argument: String) throws -> [String] {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !parts.contains(where: \.isEmpty) else {
            throw ModuleError("'\(name)' is not a table name: its parts must not be empty", argument: argument)
        }
        return parts
    }

    static let dropInDirectory = "/etc/containers/containers.conf.d"
    static let dropInProbe = ContainersDropIns.probe([dropInDirectory])

    /// Only /etc/containers/containers.conf has drop-ins read after it here; a user's
    /// ~/.config/containers/containers.conf.d cannot be listed before the user is known.
    var readsDropIns: Bool { file.path == nil && !file.isUserScope }

    func observations(_ context: ModuleContext) -> [Observation] {
        file.observations() + (readsDropIns ? [.command(ContainersConfModule.dropInProbe)] : [])
    }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        try ContainersConfigFile.planning {
            let target = try file.target(observed, context)
            var editor = try file.editor(target)
            var changed: [String] = []
            for (table, keys) in settings {
                try ContainersConfigFile.merge(keys, into: table, &editor, changed: &changed)
            }
            for (table, key) in removals {
                if try editor.remove(key, from: TOMLTableAddress(table)) { changed.append("\((table + [key]).joined(separator: ".")) removed") }
            }
            if readsDropIns {
                try checkNotOverridden(by: ContainersDropIns.read(observed.command(ContainersConfModule.dropInProbe),
                                                                  [ContainersConfModule.dropInDirectory]))
            }
            return Plan(changes: file.changes(editor, target, what: changed), result: ValueDict([("path", .string(target.path))]))
        }
    }

    /// Fails when a drop-in read after the file sets one of the task's keys otherwise, or one it removes:
    /// podman would use the drop-in's value.
    func checkNotOverridden(by dropIns: [ContainersDropIns.DropIn]) throws {
        func leaves(_ table: TOMLTable, _ path: [String]) -> [([String], TOMLValue?)] {
            table.entries.flatMap { key, value in value.table.map { leaves($0, path + [key]) } ?? [(path + [key], value)] }
        }
        let wanted = settings.flatMap { leaves($0.keys, $0.table) } + removals.map { ($0.table + [$0.key], nil) }
        for (path, value) in wanted {
            let found = dropIns.last { TOMLValue.table($0.table).value(at: path) != nil }
            guard let dropIn = found, let theirs = TOMLValue.table(dropIn.table).value(at: path), theirs != value else { continue }
            let name = path.joined(separator: ".")
            throw ContainersConfigFile.Refusal("\(dropIn.path) sets \(name) too, and podman reads it after \(file.systemPath), so "
                + "\(value == nil ? "removing it here would change nothing" : "its value would be the one in effect"). Remove it from "
                + "\(dropIn.path), or edit that file instead (path: \(dropIn.path))")
        }
    }
}
