/// Ansible's YAML inventory: top-level keys are groups (usually just `all`), each a
/// mapping of `hosts` (host -> variables), `children` (group -> the same shape) and
/// `vars`. As in Ansible, a string `hosts: web1` means `{web1: null}`, and keys
/// other than those three are skipped with a warning.
struct YAMLInventoryReader {
    private let stream: YAMLStream

    static func read(_ bytes: [UInt8], file: String, into inventory: inout Inventory) throws {
        let reader = YAMLInventoryReader(stream: try YAMLStream(bytes, file: file))
        try reader.read(into: &inventory)
    }

    private func at(_ node: YAMLNode) -> SourceLocation { stream.location(of: node) }

    private func read(into inventory: inout Inventory) throws {
        let start = SourceLocation(file: stream.file, line: 1, column: 1)
        guard let root = stream.documents.first, !root.isNull else {
            throw ParseError("the inventory is empty: expected a mapping such as 'all: {hosts: ..., children: ..., vars: ...}'", at: start)
        }
        if stream.documents.count > 1 {
            throw ParseError("an inventory file holds one YAML document; this one has \(stream.documents.count)", at: at(stream.documents[1]))
        }
        guard let pairs = root.pairs else {
            throw ParseError("a YAML inventory must be a mapping of group names (usually 'all') to groups, found \(Self.kind(root))", at: at(root))
        }
        if let plugin = root["plugin"], !plugin.isNull {
            throw ParseError("this is an inventory plugin configuration ('plugin:'), which provision does not run; write a static inventory ('all: {hosts: ..., children: ...}')", at: at(plugin))
        }
        for pair in Self.unique(pairs) {
            _ = try readGroup(pair.key, pair.value, into: &inventory)
        }
    }

    /// Reads one group's body and returns its name.
    private func readGroup(_ key: YAMLNode, _ body: YAMLNode, into inventory: inout Inventory) throws -> String {
        guard let name = key.string, !name.isEmpty else {
            throw ParseError("a group name must be a non-empty string, found \(Self.kind(key))", at: at(key))
        }
        if !body.isNull, body.pairs == nil {
            throw ParseError("group '\(name)' must be a mapping with 'hosts', 'children' and/or 'vars', found \(Self.kind(body))", at: at(body))
        }
        inventory.addGroup(name, at: at(key))
        for pair in Self.unique(body.pairs ?? []) {
            let section = pair.key.string ?? YAMLJSON.keyText(pair.key)
            guard ["hosts", "children", "vars"].contains(section) else {
                inventory.warnings.append(InventoryWarning(
                    "skipping unexpected key '\(section)' in group '\(name)': only 'hosts', 'children' and 'vars' are valid"
                        + Suggestion.hint(for: section, in: ["hosts", "children", "vars"]), at: at(pair.key)))
                continue
            }
            let entries: [YAMLPair]
            if pair.value.string != nil {
                entries = [YAMLPair(key: pair.value, value: YAMLNode(.null, mark: pair.value.mark))]
            } else if pair.value.isNull {
                continue
            } else if let mapping = pair.value.pairs {
                entries = Self.unique(mapping)
            } else {
                throw ParseError("'\(section)' of group '\(name)' must be a mapping (\(Self.shape(of: section))), found \(Self.kind(pair.value))", at: at(pair.value))
            }
            switch section {
            case "vars":
                for entry in entries {
                    try inventory.setGroupVariable(YAMLJSON.keyText(entry.key), Value(entry.value), on: name, at: at(entry.key))
                }
            case "children":
                for entry in entries {
                    let child = try readGroup(entry.key, entry.value, into: &inventory)
                    try inventory.addChild(child, to: name, at: at(entry.key))
                }
            default:
                for entry in entries { try readHost(entry.key, entry.value, group: name, into: &inventory) }
            }
        }
        return name
    }

    private func readHost(_ key: YAMLNode, _ body: YAMLNode, group: String, into inventory: inout Inventory) throws {
        let entry = key.string ?? YAMLJSON.keyText(key)
        guard !entry.isEmpty, key.pairs == nil, key.items == nil else {
            throw ParseError("a host name must be a string, found \(Self.kind(key))", at: at(key))
        }
        if !body.isNull, body.pairs == nil {
            throw ParseError("host '\(entry)' must map to its variables (a mapping) or to nothing, found \(Self.kind(body))", at: at(body))
        }
        let range: HostRange
        do {
            range = try HostRange.expand(entry)
        } catch let failure as HostRange.Failure {
            throw ParseError(failure.message, at: at(key))
        }
        let variables = Self.unique(body.pairs ?? []).map { (YAMLJSON.keyText($0.key), Value($0.value)) }
        for name in range.names {
            inventory.addHost(name, to: group, port: range.port, at: at(key))
            for (k, v) in variables { inventory.setHostVariable(k, v, on: name) }
        }
    }

    private static func shape(of section: String) -> String {
        switch section {
        case "hosts": return "host name -> its variables"
        case "children": return "group name -> its hosts, children and vars"
        default: return "variable name -> value"
        }
    }

    /// What a node is, in the words an error should use.
    static func kind(_ node: YAMLNode) -> String {
        switch node.value {
        case .null: return "nothing"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .float: return "a number"
        case .string(let s): return "the string '\(s)'"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }

    /// Mapping entries as a Python dict holds them: a repeated key keeps its first place and last value.
    static func unique(_ pairs: [YAMLPair]) -> [YAMLPair] {
        var index: [String: Int] = [:]
        var result: [YAMLPair] = []
        for pair in pairs {
            let key = YAMLJSON.keyText(pair.key)
            if let existing = index[key] {
                result[existing].value = pair.value
            } else {
                index[key] = result.count
                result.append(pair)
            }
        }
        return result
    }
}
