/// Canonical TOML text for keys, values and whole tables: what the editor writes.
enum TOMLWriter {
    static func text(of value: TOMLValue) -> String {
        var out = ""
        write(value, to: &out)
        return out
    }

    /// A key bare when TOML allows it, else basic-quoted.
    static func key(_ key: String) -> String {
        let bare = !key.isEmpty && key.utf8.allSatisfy(TOMLReader.isBareKeyByte)
        return bare ? key : quoted(key)
    }

    static func dottedKey<Path: Sequence>(_ path: Path) -> String where Path.Element == String {
        path.map(key).joined(separator: ".")
    }

    static func quoted(_ s: String) -> String {
        var out = ""
        QuotedString.write(s, to: &out, uppercaseHex: true, escapingDelete: true)
        return out
    }

    static func float(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        // Swift prints `1e+16` / `100.0`: both valid TOML floats (a fraction or an exponent).
        return "\(d)"
    }

    private static func write(_ value: TOMLValue, to out: inout String) {
        switch value.kind {
        case .string(let s): out += quoted(s)
        case .integer(let i): out += String(i)
        case .float(let d): out += float(d)
        case .boolean(let b): out += b ? "true" : "false"
        case .dateTime(let d): out += d.description
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                write(item, to: &out)
            }
            out += "]"
        case .table(let table):
            if table.isEmpty {
                out += "{}"
                return
            }
            out += "{ "
            for (i, entry) in table.entries.enumerated() {
                if i > 0 { out += ", " }
                out += key(entry.key) + " = "
                write(entry.value, to: &out)
            }
            out += " }"
        }
    }

    /// A table's body under a header at `path`: plain keys first, then sub-tables
    /// as `[path.key]` and arrays of tables as `[[path.key]]` sections.
    static func body(of table: TOMLTable, at path: [String], newline: String) -> String {
        var out = ""
        var sections: [(key: String, value: TOMLValue)] = []
        for entry in table.entries {
            if isSection(entry.value) {
                sections.append(entry)
            } else {
                out += key(entry.key) + " = " + text(of: entry.value) + newline
            }
        }
        for (name, value) in sections {
            let subPath = path + [name]
            if let sub = value.table {
                out += newline + "[" + dottedKey(subPath) + "]" + newline + body(of: sub, at: subPath, newline: newline)
            } else {
                for element in value.array ?? [] {
                    out += newline + "[[" + dottedKey(subPath) + "]]" + newline
                        + body(of: element.table ?? TOMLTable(), at: subPath, newline: newline)
                }
            }
        }
        return out
    }

    private static func isSection(_ value: TOMLValue) -> Bool {
        if value.table != nil { return true }
        guard let items = value.array, !items.isEmpty else { return false }
        return items.allSatisfy { $0.table != nil }
    }
}
