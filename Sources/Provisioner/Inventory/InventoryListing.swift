/// `provision inventory --list` and `--graph`, shaped like `ansible-inventory`'s.
extension Inventory {
    /// `ansible-inventory --list`: every group reachable from `all` with its direct `hosts`
    /// and `children` (empty groups left out, `all` listing only children), and
    /// `_meta.hostvars` with each host's merged variables minus the magic ones.
    /// Keys are sorted as `json.dumps(sort_keys=True)` sorts them.
    public func listJSON() -> Value {
        let available = Set(hostNames(inGroup: "all"))
        var groups: [String: ValueDict] = [:]
        var seen: Set<String> = []
        func format(_ name: String) {
            guard let group = groupTable[name] else { return }
            var entry = ValueDict()
            let children = group.children
            for child in children where !seen.contains(child) {
                format(child)
                seen.insert(child)
            }
            if !children.isEmpty { entry["children"] = .list(children.map(Value.string)) }
            if name != "all" {
                let hosts = group.hosts.filter(available.contains)
                if !hosts.isEmpty { entry["hosts"] = .list(hosts.map(Value.string)) }
            }
            if !entry.isEmpty { groups[name] = entry }
        }
        format("all")
        var hostvars = ValueDict()
        for host in hostNames(inGroup: "all") {
            var variables = configuredVariables(for: host)
            for name in Inventory.magicVariableNames { variables[name] = nil }
            if !variables.isEmpty { hostvars[host] = .dict(variables) }
        }
        var result = ValueDict()
        result["_meta"] = .dict(ValueDict([("hostvars", .dict(hostvars))]))
        for (name, entry) in groups { result[name] = .dict(entry) }
        return Inventory.sortingKeys(.dict(result))
    }

    /// `listJSON()` as `ansible-inventory --list` prints it: Python's `json.dumps` with
    /// `indent=4, sort_keys=True, ensure_ascii=False` (no trailing newline).
    public func listJSONText() -> String {
        var out = ""
        Inventory.writePythonJSON(listJSON(), indent: 0, to: &out)
        return out
    }

    /// `ansible-inventory --graph`: the group tree from `all`, children before hosts, in
    /// declaration order, each level indented by `  |`; no trailing newline.
    public func graph() -> String {
        var lines: [String] = []
        func draw(_ name: String, depth: Int) {
            guard let group = groupTable[name] else { return }
            lines.append(Inventory.graphLine("@\(name):", depth: depth))
            for child in group.children { draw(child, depth: depth + 1) }
            if name != "all" {
                for host in group.hosts { lines.append(Inventory.graphLine(host, depth: depth + 1)) }
            }
        }
        draw("all", depth: 0)
        return lines.joined(separator: "\n")
    }

    private static func graphLine(_ text: String, depth: Int) -> String {
        depth == 0 ? text : String(repeating: "  |", count: depth) + "--" + text
    }

    static func sortingKeys(_ value: Value) -> Value {
        switch value {
        case .list(let items):
            return .list(items.map(sortingKeys))
        case .dict(let dict):
            let keys = dict.keys.sorted { $0.precedesInCodePoints($1) }
            return .dict(ValueDict(keys.map { ($0, sortingKeys(dict[$0] ?? .null)) }))
        default:
            return value
        }
    }

    static func writePythonJSON(_ value: Value, indent: Int, to out: inout String) {
        let inner = String(repeating: " ", count: indent + 4)
        let closing = String(repeating: " ", count: indent)
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let n): out += String(n)
        case .float(let d): out += JSONWriter.pythonFloatText(d)
        case .string(let s): QuotedString.write(s, to: &out)
        case .unsafe(let v): writePythonJSON(v, indent: indent, to: &out)
        case .list(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "[\n"
            for (n, item) in items.enumerated() {
                out += inner
                writePythonJSON(item, indent: indent + 4, to: &out)
                out += n + 1 < items.count ? ",\n" : "\n"
            }
            out += closing + "]"
        case .dict(let dict):
            guard !dict.isEmpty else { out += "{}"; return }
            out += "{\n"
            for (n, entry) in dict.enumerated() {
                out += inner
                QuotedString.write(entry.key, to: &out)
                out += ": "
                writePythonJSON(entry.value, indent: indent + 4, to: &out)
                out += n + 1 < dict.count ? ",\n" : "\n"
            }
            out += closing + "}"
        }
    }
}
