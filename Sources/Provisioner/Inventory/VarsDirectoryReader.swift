import Foundation

/// The `group_vars/` and `host_vars/` of one directory, read the way Ansible's
/// host_group_vars plugin reads them: for a group or host NAME the first of `NAME`,
/// `NAME.yml`, `NAME.yaml`, `NAME.json` that exists, and when that is a folder, every
/// YAML/JSON (or extensionless) file in it and its subfolders in name order, later
/// files overriding earlier ones key by key.
struct VarsDirectory: Sendable {
    /// The directory holding `group_vars/` and `host_vars/`.
    let base: String
    var groupVariables: [String: ValueDict] = [:]
    var hostVariables: [String: ValueDict] = [:]

    static let extensions = ["", ".yml", ".yaml", ".json"]

    /// Reads the files of the given groups and hosts; files naming neither are not read
    /// (as in Ansible), but a near miss of a real name earns a warning.
    static func read(base: String, groups: [String], hosts: [String], warnings: inout [InventoryWarning]) throws -> VarsDirectory {
        var directory = VarsDirectory(base: base)
        directory.groupVariables = try readEntities("group_vars", names: groups, kind: "group", base: base, warnings: &warnings)
        directory.hostVariables = try readEntities("host_vars", names: hosts, kind: "host", base: base, warnings: &warnings)
        return directory
    }

    private static func readEntities(_ folder: String, names: [String], kind: String, base: String,
                                     warnings: inout [InventoryWarning]) throws -> [String: ValueDict] {
        let path = join(base, folder)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [:] }
        guard isDirectory.boolValue else {
            warnings.append(InventoryWarning("\(path) is not a directory; skipping it"))
            return [:]
        }
        let entries: Set<String>
        do {
            entries = Set(try FileManager.default.contentsOfDirectory(atPath: path))
        } catch {
            throw ParseError("cannot list \(path): \(error.localizedDescription)", at: SourceLocation(file: path, line: 1, column: 1))
        }
        var result: [String: ValueDict] = [:]
        var used: Set<String> = []
        for name in names where !name.hasPrefix("/") {
            let candidates = extensions.map { name + $0 }.filter { entries.contains($0) }
            guard let chosen = candidates.first else { continue }
            used.formUnion(candidates)
            for shadowed in candidates.dropFirst() {
                warnings.append(InventoryWarning(
                    "\(join(path, shadowed)) is not read: \(join(path, chosen)) is, and only the first of \(name), \(name).yml, \(name).yaml, \(name).json counts"))
            }
            var merged = ValueDict()
            for file in try files(at: join(path, chosen)) {
                merged = merged.merging(try readVariablesFile(file))
            }
            result[name] = merged
        }
        let unused = entries.subtracting(used).sorted { $0.precedesInCodePoints($1) }
        for entry in unused where !entry.hasPrefix(".") && !entry.hasSuffix("~") {
            let stem = extensions.dropFirst().first { entry.hasSuffix($0) }.map { String(entry.dropLast($0.count)) } ?? entry
            if let near = Suggestion.nearest(to: stem, in: names) {
                warnings.append(InventoryWarning("\(join(path, entry)) matches no \(kind) in the inventory (did you mean '\(near)'?)"))
            }
        }
        return result
    }

    /// A file, or a folder's eligible files in Ansible's order.
    private static func files(at path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return [path] }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw ParseError("cannot list \(path): \(error.localizedDescription)", at: SourceLocation(file: path, line: 1, column: 1))
        }
        var found: [String] = []
        for name in names.sorted(by: { $0.precedesInCodePoints($1) }) where !name.hasPrefix(".") && !name.hasSuffix("~") {
            let full = join(path, name)
            let ext = pathExtension(name)
            var childIsDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &childIsDirectory) else { continue }
            if childIsDirectory.boolValue {
                if ext.isEmpty { found.append(contentsOf: try files(at: full)) }
            } else if extensions.contains(ext) {
                found.append(full)
            }
        }
        return found
    }

    /// One vars file: a YAML (or JSON) mapping of variable names to values; empty files count as empty.
    static func readVariablesFile(_ path: String) throws -> ValueDict {
        let bytes = try InventoryLoader.contents(of: path)
        if bytes.starts(with: Array("$ANSIBLE_VAULT".utf8)) {
            throw ParseError("this file is encrypted with ansible-vault, which provision does not read; decrypt it or move the secrets elsewhere",
                             at: SourceLocation(file: path, line: 1, column: 1))
        }
        let stream = try YAMLStream(bytes, file: path)
        if stream.documents.count > 1 {
            throw ParseError("a vars file holds one YAML document; this one has \(stream.documents.count)", at: stream.location(of: stream.documents[1]))
        }
        guard let root = stream.documents.first, !root.isNull else { return ValueDict() }
        guard root.pairs != nil, case .dict(let variables) = Value(root) else {
            throw ParseError("a vars file must be a mapping of variable names to values, found \(YAMLInventoryReader.kind(root))", at: stream.location(of: root))
        }
        return variables
    }

    /// Python's `os.path.splitext(name)[1]` for a file name.
    static func pathExtension(_ name: String) -> String {
        let stem = name.drop { $0 == "." }
        guard let dot = stem.lastIndex(of: ".") else { return "" }
        return String(stem[dot...])
    }

    static func join(_ base: String, _ name: String) -> String {
        if base.isEmpty || base == "." { return name }
        return base.hasSuffix("/") ? base + name : base + "/" + name
    }
}
