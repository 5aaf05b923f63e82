/// Ansible's INI inventory: `[group]` sections of host lines (`name k=v ...`, ranges,
/// `host:port`), `[group:vars]` of `key=value` lines and `[group:children]` of group
/// names; lines before any section are ungrouped hosts. Values go through Python's
/// `literal_eval` on host lines and in `:vars` alike, as Ansible's code does (its docs
/// say `:vars` values stay strings; they do not).
struct INIInventoryReader {
    private enum SectionKind: String { case hosts, vars, children }

    /// A group mentioned before it was declared, settled when a later section declares it.
    private struct Pending {
        var kind: SectionKind
        var location: SourceLocation
        var parents: [(name: String, location: SourceLocation)] = []
    }

    private let file: String
    private var group = "ungrouped"
    private var kind = SectionKind.hosts
    private var pending: [String: Pending] = [:]
    private var pendingOrder: [String] = []

    private init(file: String) { self.file = file }

    static func read(_ bytes: [UInt8], file: String, into inventory: inout Inventory) throws {
        var reader = INIInventoryReader(file: file)
        try reader.read(bytes, into: &inventory)
    }

    private mutating func read(_ bytes: [UInt8], into inventory: inout Inventory) throws {
        for (number, raw) in Self.lines(of: bytes).enumerated() {
            let lineNumber = number + 1
            let line: String
            if let text = String(validating: raw, as: UTF8.self) {
                line = text
            } else if let first = raw.first(where: { $0 != 0x20 && $0 != 0x09 }), first == UInt8(ascii: "#") || first == UInt8(ascii: ";") {
                continue   // Ansible tolerates bad encoding in comment lines only
            } else {
                throw ParseError("line is not valid UTF-8", at: SourceLocation(file: file, line: lineNumber, column: 1))
            }
            let indent = line.unicodeScalars.prefix { $0.properties.isWhitespace }.count
            let text = line.pythonStripped()
            guard let first = text.first, first != "#", first != ";" else { continue }
            let at = SourceLocation(file: file, line: lineNumber, column: indent + 1)
            if let (name, tag) = Self.section(text) {
                try enterSection(name, tag: tag, at: at, inventory: &inventory)
                continue
            }
            if text.hasPrefix("["), text.hasSuffix("]") {
                throw ParseError("invalid section header \(text): expected [group], [group:vars] or [group:children], with no spaces in the name", at: at)
            }
            switch kind {
            case .hosts: try readHostLine(line, at: at, inventory: &inventory)
            case .vars: try readVariableLine(text, at: at, inventory: &inventory)
            case .children: try readChildLine(text, at: at, inventory: &inventory)
            }
        }
        try reportUnsettled(inventory)
    }

    // MARK: Sections

    private mutating func enterSection(_ name: String, tag: String?, at: SourceLocation, inventory: inout Inventory) throws {
        let tag = tag ?? "hosts"
        guard let sectionKind = SectionKind(rawValue: tag) else {
            throw ParseError("section [\(name):\(tag)] has unknown type '\(tag)': expected [\(name)], [\(name):vars] or [\(name):children]"
                             + Suggestion.hint(for: tag, in: ["vars", "children", "hosts"]), at: at)
        }
        group = name
        kind = sectionKind
        // [g] and [g:children] declare g; [g:vars] alone must be backed by a declaration somewhere.
        if inventory.group(named: name) == nil {
            if sectionKind == .vars, pending[name] == nil { remember(name, Pending(kind: .vars, location: at)) }
            inventory.addGroup(name, at: at)
        }
        if sectionKind != .vars, let waiting = pending[name] {
            if waiting.kind == .children { try settleChildren(of: name, inventory: &inventory) } else { forget(name) }
        }
    }

    /// `[name]`, `[name:tag]`, then nothing but blanks or a `#` comment.
    private static func section(_ text: String) -> (String, String?)? {
        let s = Array(text.unicodeScalars)
        guard s.first == "[" else { return nil }
        var i = 1
        while i < s.count, s[i] != ":", s[i] != "]", !s[i].properties.isWhitespace { i += 1 }
        guard i > 1, i < s.count else { return nil }
        let name = String(String.UnicodeScalarView(s[1..<i]))
        var tag: String?
        if s[i] == ":" {
            let start = i + 1
            i = start
            while i < s.count, s[i].properties.isAlphabetic || s[i].properties.numericType != nil || s[i] == "_" { i += 1 }
            guard i > start else { return nil }
            tag = String(String.UnicodeScalarView(s[start..<i]))
        }
        guard i < s.count, s[i] == "]" else { return nil }
        i += 1
        while i < s.count, s[i].properties.isWhitespace { i += 1 }
        return i == s.count || s[i] == "#" ? (name, tag) : nil
    }

    // MARK: Lines

    private mutating func readHostLine(_ line: String, at: SourceLocation, inventory: inout Inventory) throws {
        let words: [ShellWords.Word]
        do {
            words = try ShellWords.split(line)
        } catch ShellWords.Failure.unclosedQuote(let column) {
            throw ParseError("unclosed quote in host line", at: SourceLocation(file: file, line: at.line, column: column))
        } catch {
            throw ParseError("host line ends with a lone '\\'", at: at)
        }
        guard let entry = words.first else { return }
        let entryAt = SourceLocation(file: file, line: at.line, column: entry.column)
        let range: HostRange
        do {
            range = try HostRange.expand(entry.text)
        } catch let failure as HostRange.Failure {
            throw ParseError(failure.message, at: entryAt)
        }
        var assignments: [(String, Value)] = []
        for word in words.dropFirst() {
            let wordAt = SourceLocation(file: file, line: at.line, column: word.column)
            guard let equals = word.text.firstIndex(of: "=") else {
                let hint = word.text.hasPrefix(";") ? " (';' starts a comment only at the start of a line; use '#')" : ""
                throw ParseError("expected key=value host variable assignment, got '\(word.text)'\(hint)", at: wordAt)
            }
            let key = String(word.text[..<equals])
            guard !key.isEmpty else { throw ParseError("variable name missing before '='", at: wordAt) }
            assignments.append((key, PythonLiteral.value(of: String(word.text[word.text.index(after: equals)...]))))
        }
        for name in range.names {
            inventory.addHost(name, to: group, port: range.port, at: entryAt)
            for (key, value) in assignments { inventory.setHostVariable(key, value, on: name) }
        }
    }

    private mutating func readVariableLine(_ text: String, at: SourceLocation, inventory: inout Inventory) throws {
        guard let equals = text.firstIndex(of: "=") else {
            throw ParseError("expected key=value in [\(group):vars], got '\(text)'", at: at)
        }
        let key = text[..<equals].pythonStripped()
        let raw = text[text.index(after: equals)...].pythonStripped()
        guard !key.isEmpty else { throw ParseError("variable name missing before '='", at: at) }
        let value = PythonLiteral.value(of: raw)
        if case .string(let s) = value, s == raw, let hash = raw.range(of: " #") ?? raw.range(of: "\t#") {
            let comment = raw[hash.lowerBound...].pythonStripped()
            inventory.warnings.append(InventoryWarning(
                "the value of '\(key)' includes '\(comment)': in a :vars section a comment after a value that is not a Python literal is part of the value", at: at))
        }
        try inventory.setGroupVariable(key, value, on: group, at: at)
    }

    private mutating func readChildLine(_ text: String, at: SourceLocation, inventory: inout Inventory) throws {
        let name = String(text.unicodeScalars.prefix { $0 != ":" && $0 != "]" && !$0.properties.isWhitespace })
        let rest = text.dropFirst(name.count).pythonStripped()
        guard !name.isEmpty, rest.isEmpty || rest.hasPrefix("#") else {
            throw ParseError("expected a group name in [\(group):children], got '\(text)'", at: at)
        }
        if inventory.group(named: name) != nil {
            try inventory.addChild(name, to: group, at: at)
        } else if pending[name] != nil {
            pending[name]?.parents.append((group, at))
        } else {
            remember(name, Pending(kind: .children, location: at, parents: [(group, at)]))
        }
    }

    // MARK: Forward references

    private mutating func remember(_ name: String, _ declaration: Pending) {
        pending[name] = declaration
        pendingOrder.append(name)
    }

    private mutating func forget(_ name: String) {
        pending[name] = nil
        pendingOrder.removeAll { $0 == name }
    }

    private mutating func settleChildren(of name: String, inventory: inout Inventory) throws {
        guard let waiting = pending[name] else { return }
        forget(name)
        for parent in waiting.parents {
            try inventory.addChild(name, to: parent.name, at: parent.location)
            if pending[parent.name]?.kind == .children { try settleChildren(of: parent.name, inventory: &inventory) }
        }
    }

    private func reportUnsettled(_ inventory: Inventory) throws {
        guard let name = pendingOrder.first, let waiting = pending[name] else { return }
        let hint = Suggestion.hint(for: name, in: inventory.groupNames.filter { $0 != name })
        switch waiting.kind {
        case .vars:
            throw ParseError("section [\(name):vars] sets variables of group '\(name)', which no [\(name)] or [\(name):children] section declares\(hint)", at: waiting.location)
        default:
            let parent = waiting.parents.last?.name ?? group
            throw ParseError("section [\(parent):children] includes undefined group '\(name)': declare it with a [\(name)] section\(hint)", at: waiting.location)
        }
    }

    /// Lines split on LF, CRLF or CR; a leading UTF-8 byte order mark is dropped.
    static func lines(of bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var lines: [ArraySlice<UInt8>] = []
        var i = start
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x0A || b == 0x0D {
                lines.append(bytes[start..<i])
                if b == 0x0D, i + 1 < bytes.count, bytes[i + 1] == 0x0A { i += 1 }
                start = i + 1
            }
            i += 1
        }
        if start < bytes.count { lines.append(bytes[start...]) }
        return lines
    }
}
