import Provisioner

/// containers.conf(5) for podman: keys set in named tables (`engine`,
/// `engine.runtimes`, `containers`, `network`, …) and keys removed, edited in
/// place so the file's comments and every other key stay.
///
/// podman merges containers.conf files (/usr/share, then /etc, then
/// containers.conf.d drop-ins and the user's file), each key overriding the ones
/// read before. So a missing file starts empty: a small file holding only what
/// differs is right, and it does not freeze the vendor's other defaults.
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

    func observations(_ context: ModuleContext) -> [Observation] { file.observations() }

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
            return Plan(changes: file.changes(editor, target, what: changed), result: ValueDict([("path", .string(target.path))]))
        }
    }
}
