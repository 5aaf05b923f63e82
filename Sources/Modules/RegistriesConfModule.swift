import Provisioner

/// containers-registries.conf(5), version 2: the registries searched for short
/// names, the short-name mode, and `[[registry]]` entries with their mirrors,
/// edited in place so the file's comments and other entries stay.
///
/// An entry is identified as containers/image does: by its prefix, which defaults
/// to its location. An existing `[[registry]]` with the same prefix is updated in
/// place (only the keys given are set; `mirrors`, when given, is made equal), other
/// entries are left alone, and a new one is appended. A file still in the v1 format
/// (`[registries.search]` …) is refused: podman rejects files mixing v1 and v2
/// ("mixing sysregistry v1/v2 is not supported"), and converting it is a decision
/// for a person. A missing system file starts empty: podman merges registries.conf
/// with its registries.conf.d drop-ins and needs nothing else in it. A drop-in that
/// overrides what the task sets in /etc/containers/registries.conf fails the task,
/// naming it: podman would not use the value. A user's
/// ~/.config/containers/registries.conf, though, replaces /etc/containers/registries.conf
/// and its drop-ins for that user (containers-registries.conf(5)), so a missing one
/// starts as the system file with the system's drop-ins folded in, keeping the search
/// list, entries and short-name aliases the user had.
struct RegistriesConfModule: Module {
    static let name = "registries_conf"
    static let summary = "Edit registries.conf for podman: search registries, short-name mode, [[registry]] entries and mirrors"
    static let registryKeys = ["prefix", "location", "insecure", "blocked", "mirrors"]
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("unqualified_search_registries", .list,
                     doc: "registries tried, in order, for short image names (unqualified-search-registries)"),
        ArgumentSpec("short_name_mode", .string, choices: ["enforcing", "permissive", "disabled"],
                     doc: "how short names resolve (short-name-mode)"),
        ArgumentSpec("registries", .list, doc: "[[registry]] entries: mappings with prefix, location, insecure, blocked "
            + "and mirrors (a list of mappings with location and insecure); an entry with the same prefix "
            + "(or, without one, location) is updated, others are appended"),
    ] + ContainersConfigFile.specs("registries.conf")

    struct Registry: Equatable {
        var prefix: String?
        var location: String?
        var insecure: Bool?
        var blocked: Bool?
        var mirrors: [TOMLTable]?

        /// containers/image's key for an entry: the prefix, or the location when there is none.
        var key: String { prefix ?? location ?? "" }

        /// The keys to set, in the order a new entry is written.
        var fields: TOMLTable {
            var table = TOMLTable()
            if let prefix { table["prefix"] = .string(prefix) }
            if let location { table["location"] = .string(location) }
            if let insecure { table["insecure"] = .boolean(insecure) }
            if let blocked { table["blocked"] = .boolean(blocked) }
            return table
        }
    }

    let file: ContainersConfigFile
    let searchRegistries: [String]?
    let shortNameMode: String?
    let registries: [Registry]

    init(_ arguments: ModuleArguments) throws {
        file = try ContainersConfigFile(arguments, fileName: "registries.conf", rootReadsUserFile: true)
        searchRegistries = arguments.strings("unqualified_search_registries")
        shortNameMode = arguments.string("short_name_mode")
        registries = try (arguments.list("registries") ?? []).enumerated().map(RegistriesConfModule.registry)
        var seen = Set<String>()
        for registry in registries where !seen.insert(registry.key).inserted {
            throw ModuleError("registries names the prefix \(registry.key) twice; containers/image allows one entry per prefix",
                              argument: "registries")
        }
    }

    static func registry(_ index: Int, _ value: Value) throws -> Registry {
        let name = "registries[\(index)]"
        func wrong(_ message: String) -> ModuleError { ModuleError("\(name): \(message)", argument: "registries") }
        guard let dict = value.dict else { throw wrong("must be a mapping with prefix, location, insecure, blocked, mirrors") }
        for key in dict.keys where !registryKeys.contains(key) {
            throw wrong("unknown key '\(key)'\(Suggestion.hint(for: key, in: registryKeys)); "
                + "the keys are \(registryKeys.joined(separator: ", "))")
        }
        var registry = Registry()
        registry.prefix = try text(dict["prefix"], "prefix", in: name)
        registry.location = try text(dict["location"], "location", in: name)
        registry.insecure = try flag(dict["insecure"], "insecure", in: name)
        registry.blocked = try flag(dict["blocked"], "blocked", in: name)
        if registry.location == nil && registry.prefix?.hasPrefix("*.") != true {
            throw wrong("needs a location (only a wildcard prefix such as *.example.com may go without one)")
        }
        if let mirrors = dict["mirrors"], mirrors != .null {
            guard let items = mirrors.list else { throw wrong("mirrors must be a list of mappings with location and insecure") }
            registry.mirrors = try items.enumerated().map { offset, item in
                let at = "\(name).mirrors[\(offset)]"
                guard let mirror = item.dict else { throw ModuleError("\(at) must be a mapping with location and insecure", argument: "registries") }
                for key in mirror.keys where !["location", "insecure"].contains(key) {
                    throw ModuleError("\(at): unknown key '\(key)'; the keys are location, insecure", argument: "registries")
                }
                guard let location = try text(mirror["location"], "location", in: at) else {
                    throw ModuleError("\(at) needs a location", argument: "registries")
                }
                var table: TOMLTable = ["location": .string(location)]
                if let insecure = try flag(mirror["insecure"], "insecure", in: at) { table["insecure"] = .boolean(insecure) }
                return table
            }
        }
        return registry
    }

    private static func text(_ value: Value?, _ key: String, in name: String) throws -> String? {
        guard let value, value != .null else { return nil }
        guard let s = value.string, !s.isEmpty else {
            throw ModuleError("\(name).\(key) must be a non-empty string, not \(value.json)", argument: "registries")
        }
        return s
    }

    private static func flag(_ value: Value?, _ key: String, in name: String) throws -> Bool? {
        guard let value, value != .null else { return nil }
        guard let b = ModuleArguments.boolean(value) else {
            throw ModuleError("\(name).\(key) must be a boolean, not \(value.json)", argument: "registries")
        }
        return b
    }

    static let systemPath = "/etc/containers/registries.conf"

    /// The drop-ins matter for the files podman reads by default, not for a given path.
    var readsDropIns: Bool { file.path == nil }

    func observations(_ context: ModuleContext) -> [Observation] {
        file.observations() + (file.isUserScope ? [.file(path: RegistriesConfModule.systemPath, content: true)] : [])
            + (readsDropIns ? [.command(RegistriesDropIns.probe)] : [])
    }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        try ContainersConfigFile.planning {
            let target = try file.target(observed, context)
            let system = file.isUserScope ? observed.file(RegistriesConfModule.systemPath)?.content : nil
            let dropIns = readsDropIns && !target.isPlaceholder ? try RegistriesDropIns.read(observed.command(RegistriesDropIns.probe)) : []
            var editor = try file.editor(target, seed: system.map { String(decoding: $0, as: UTF8.self) } ?? "",
                                         seedPath: RegistriesConfModule.systemPath)
            if let v1 = editor.document.root["registries"] { throw ContainersConfigFile.Refusal(v1Message(v1, editor.file)) }
            let foldsDropIns = file.isUserScope && target.text == nil && !dropIns.isEmpty
            if foldsDropIns {
                for dropIn in dropIns { try RegistriesDropIns.fold(dropIn, into: &editor) }
            }
            var changed: [String] = []
            if let searchRegistries,
               try editor.set("unqualified-search-registries", to: .array(searchRegistries.map { .string($0) })) {
                changed.append("unqualified-search-registries")
            }
            if let shortNameMode, try editor.set("short-name-mode", to: .string(shortNameMode)) {
                changed.append("short-name-mode")
            }
            for registry in registries {
                if let what = try converge(registry, &editor) { changed.append(what) }
            }
            if !file.isUserScope { try checkNotOverridden(editor, by: dropIns) }
            var result = ValueDict([("path", .string(target.path))])
            if target.text == nil && system != nil { result["seeded_from"] = .string(RegistriesConfModule.systemPath) }
            if foldsDropIns { result["drop_ins"] = .list(dropIns.map { .string($0.path) }) }
            return Plan(changes: file.changes(editor, target, what: changed), result: result)
        }
    }

    /// Fails when a drop-in sets one of the task's settings otherwise: podman reads the drop-ins
    /// after registries.conf, so theirs would be the value in effect.
    func checkNotOverridden(_ edited: TOMLEditor, by dropIns: [ContainersDropIns.DropIn]) throws {
        var wanted: [(what: String, setting: (TOMLTable) -> TOMLValue?)] = []
        if searchRegistries != nil { wanted.append(("unqualified-search-registries", { $0["unqualified-search-registries"] })) }
        if shortNameMode != nil { wanted.append(("short-name-mode", { $0["short-name-mode"] })) }
        for registry in registries {
            wanted.append(("the [[registry]] \(registry.key)", { root in
                root["registry"]?.array?.compactMap(\.table).first { RegistriesDropIns.key($0) == registry.key }.map { .table($0) }
            }))
        }
        for (what, setting) in wanted {
            guard let dropIn = dropIns.last(where: { setting($0.table) != nil }) else { continue }
            var effective = edited
            for each in dropIns { try RegistriesDropIns.fold(each, into: &effective) }
            guard setting(effective.document.root) != setting(edited.document.root) else { continue }
            throw ContainersConfigFile.Refusal("\(dropIn.path) sets \(what) too, and podman reads it after \(edited.file), so its "
                + "setting would be the one in effect. Remove it from \(dropIn.path), or edit that file instead (path: \(dropIn.path))")
        }
    }

    /// Updates the entry with the same prefix, or appends one; says what changed.
    func converge(_ registry: Registry, _ editor: inout TOMLEditor) throws -> String? {
        let existing = editor.elements(of: ["registry"]).firstIndex { entry in
            (entry["prefix"]?.string ?? entry["location"]?.string) == registry.key
        }
        guard let index = existing else {
            var entry = registry.fields
            if let mirrors = registry.mirrors, !mirrors.isEmpty { entry["mirror"] = .array(mirrors.map { .table($0) }) }
            try editor.appendTable(entry, to: ["registry"])
            return "new registry \(registry.key)"
        }
        var keys: [String] = []
        for (key, value) in registry.fields.entries {
            if try editor.set(key, to: value, in: .element(index, of: ["registry"])) { keys.append(key) }
        }
        if let mirrors = registry.mirrors, try editor.setTables("mirror", to: mirrors, in: .element(index, of: ["registry"])) {
            keys.append("mirrors")
        }
        return keys.isEmpty ? nil : "registry \(registry.key) (\(keys.joined(separator: ", ")))"
    }

    private func v1Message(_ v1: TOMLValue, _ path: String) -> String {
        func list(_ table: String) -> String {
            let items = v1.table?[table]?.table?["registries"]?.array?.compactMap(\.string) ?? []
            return items.isEmpty ? "none" : items.joined(separator: ", ")
        }
        return "\(path) is in the v1 format ([registries.search], [registries.insecure], [registries.block]), and podman "
            + "refuses files that mix it with the v2 keys this module writes. Convert it by hand: the search list "
            + "(\(list("search"))) becomes unqualified-search-registries = [...], each insecure registry (\(list("insecure"))) "
            + "a [[registry]] with location and insecure = true, each blocked one (\(list("block"))) a [[registry]] with "
            + "location and blocked = true; or remove the file"
    }
}
