/// Finding where a key lives in the source, and where a new one should go.
extension TOMLEditor {
    enum Location {
        /// This key/value statement defines the key.
        case statement(Int)
        /// Inside the inline-table value of statement `Int`, whose key path is `path`, at `rest`.
        case inside(Int, path: [String], rest: [String])
        /// Absent: write `prefix.key = value` in this section (nil: before any header).
        case missing(section: Int?, prefix: [String])
        /// Absent, and the table has no section of its own: add `[path]`.
        case missingTable([String])
    }

    func locate(_ key: String, in address: TOMLTableAddress) throws -> Location {
        if let element = address.element { return try locate(key, inElement: element, of: address.path) }
        let path = address.path
        try checkTablePath(path)
        let full = path + [key]
        let statements = document.statements
        for (i, s) in statements.enumerated() where s.kind == .keyValue {
            guard let absolute = absolutePath(of: s) else { continue }
            if absolute == full { return .statement(i) }
            if absolute.count < full.count, full.starts(with: absolute) {
                return .inside(i, path: absolute, rest: Array(full.dropFirst(absolute.count)))
            }
        }
        if let existing = document.value(at: full) {
            throw conflict("\(TOMLWriter.dottedKey(full)) is a table with its own section or dotted keys; "
                + "set the keys inside it instead", at: existing.mark)
        }
        if path.isEmpty { return .missing(section: nil, prefix: []) }
        if let header = statements.firstIndex(where: { $0.kind == .table && $0.path == path }) {
            return .missing(section: header, prefix: [])
        }
        // A table made by dotted keys (`a.b.c = 1`) can only grow where those keys are.
        for s in statements where s.kind == .keyValue {
            guard let absolute = absolutePath(of: s) else { continue }
            let sectionDepth = absolute.count - s.path.count
            if sectionDepth < path.count, absolute.count > path.count, absolute.starts(with: path) {
                return .missing(section: s.section, prefix: Array(path.dropFirst(sectionDepth)))
            }
        }
        return .missingTable(path)
    }

    private func locate(_ key: String, inElement element: Int, of path: [String]) throws -> Location {
        try checkTablePath(Array(path.dropLast()))
        let count = try arrayOfTablesCount(at: path)
        guard element >= 0, element < count else {
            throw TOMLEditError("\(TOMLTableAddress.element(element, of: path)) does not exist: "
                + "the file has \(count) [[\(TOMLWriter.dottedKey(path))]] tables")
        }
        let statements = document.statements
        let headers = statements.indices.filter { statements[$0].kind == .arrayTable && statements[$0].path == path }
        let header = headers[element]
        if let i = statements.indices.first(where: {
            statements[$0].kind == .keyValue && statements[$0].section == header && statements[$0].path == [key]
        }) {
            return .statement(i)
        }
        if let existing = table(.element(element, of: path))?[key] {
            throw conflict("\(TOMLWriter.key(key)) in \(TOMLTableAddress.element(element, of: path)) is a table "
                + "with its own section or dotted keys; set the keys inside it instead", at: existing.mark)
        }
        return .missing(section: header, prefix: [])
    }

    /// A key/value statement's full key path; nil inside `[[…]]` sections, whose
    /// paths name an element rather than a table.
    private func absolutePath(of statement: TOMLStatement) -> [String]? {
        guard let section = statement.section else { return statement.path }
        let header = document.statements[section]
        return header.kind == .table ? header.path + statement.path : nil
    }

    /// Every existing part of `path` must be a table (not an array of tables, not a value).
    func checkTablePath(_ path: [String]) throws {
        var current = document.root
        for (i, key) in path.enumerated() {
            guard let next = current[key] else { return }
            let name = TOMLWriter.dottedKey(path.prefix(i + 1))
            switch next.kind {
            case .table(let table):
                current = table
            case .array(let items) where !items.isEmpty && items.allSatisfy({ $0.table != nil }):
                throw conflict("\(name) is an array of tables; address one with .element(_:of:)", at: next.mark)
            default:
                throw conflict("\(name) is \(next.typeName == "integer" || next.typeName == "array" ? "an" : "a") "
                    + "\(next.typeName), not a table", at: next.mark)
            }
        }
    }

    /// How many `[[path]]` elements exist; throws if `path` is something else.
    func arrayOfTablesCount(at path: [String]) throws -> Int {
        guard let existing = document.value(at: path) else {
            if case .inside = try locate(path.last ?? "", in: TOMLTableAddress(Array(path.dropLast()))) {
                throw TOMLEditError("\(TOMLWriter.dottedKey(path)) would be inside an inline table; "
                    + "[[\(TOMLWriter.dottedKey(path))]] cannot go there")
            }
            return 0
        }
        let headers = document.statements.filter { $0.kind == .arrayTable && $0.path == path }.count
        guard let items = existing.array, items.count == headers else {
            throw conflict("\(TOMLWriter.dottedKey(path)) is not an array of [[\(TOMLWriter.dottedKey(path))]] tables",
                           at: existing.mark)
        }
        return headers
    }

    private func conflict(_ message: String, at mark: SourceMark?) -> TOMLEditError {
        TOMLEditError(message, at: mark.map { SourceLocation(file: file, mark: $0) })
    }

    // MARK: Where new text goes

    /// `line` (no line break) as a new key in `section`: after its last key, matching
    /// that key's indentation, or right under its header.
    func insertion(_ line: String, into section: Int?) -> Edit {
        let statements = document.statements
        if let last = statements.last(where: { $0.kind == .keyValue && $0.section == section }) {
            let indent = bytes[last.lines.lowerBound...].prefix { $0 == TOMLByte.space || $0 == TOMLByte.tab }
            return insertion(String(decoding: indent, as: UTF8.self) + line, at: last.lines.upperBound)
        }
        if let section { return insertion(line, at: statements[section].lines.upperBound) }
        // Top-level keys must precede every header: go above the first one and
        // the comment block that introduces it.
        if let header = statements.first(where: { $0.kind != .keyValue }) {
            let at = startOfCommentBlock(above: header.lines.lowerBound)
            return Edit(range: at..<at, text: line + newline + newline)
        }
        return appending(line + newline)
    }

    private func insertion(_ line: String, at offset: Int) -> Edit {
        let unterminated = offset == bytes.count && offset > bomLength && bytes[offset - 1] != TOMLByte.lf
        return Edit(range: offset..<offset, text: (unterminated ? newline : "") + line + newline)
    }

    /// `text` at the end of the file, after a blank line.
    func appending(_ text: String) -> Edit {
        let end = bytes.count
        guard end > bomLength else { return Edit(range: end..<end, text: text) }
        var prefix = ""
        var lastLine = lineStart(before: end)..<end
        if bytes[end - 1] == TOMLByte.lf {
            lastLine = lineStart(before: end - 1)..<(end - 1)
        } else {
            prefix = newline
        }
        if !bytes[lastLine].allSatisfy({ $0 == TOMLByte.space || $0 == TOMLByte.tab || $0 == TOMLByte.cr }) {
            prefix += newline
        }
        return Edit(range: end..<end, text: prefix + text)
    }

    /// The start of the line holding `offset - 1`... i.e. the line that ends at `offset`.
    func lineStart(before offset: Int) -> Int {
        var p = offset
        while p > bomLength, bytes[p - 1] != TOMLByte.lf { p -= 1 }
        return p
    }

    /// Moves up from a line start over the comment lines directly above it.
    private func startOfCommentBlock(above offset: Int) -> Int {
        var at = offset
        while at > bomLength {
            let previous = lineStart(before: at - 1)
            let content = bytes[previous..<at].drop { $0 == TOMLByte.space || $0 == TOMLByte.tab }
            guard content.first == TOMLByte.hash else { break }
            at = previous
        }
        return at
    }
}

extension TOMLValue {
    /// Sets a value below this inline table, creating tables on the way.
    mutating func set(_ path: [String], to value: TOMLValue, editing outer: [String], in file: String) throws {
        guard let key = path.first else {
            self = value
            return
        }
        guard var table = self.table else {
            throw TOMLEditError("\(TOMLWriter.dottedKey(outer)) is \(typeName), not a table",
                                at: mark.map { SourceLocation(file: file, mark: $0) })
        }
        var child = table[key] ?? .table(TOMLTable())
        try child.set(Array(path.dropFirst()), to: value, editing: outer + [key], in: file)
        table[key] = child
        kind = .table(table)
    }

    mutating func remove(_ path: [String]) {
        guard let key = path.first, var table = self.table else { return }
        if path.count == 1 {
            table[key] = nil
        } else if var child = table[key] {
            child.remove(Array(path.dropFirst()))
            table[key] = child
        }
        kind = .table(table)
    }
}
