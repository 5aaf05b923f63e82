/// Replacing a whole array of tables, e.g. the `[[registry.mirror]]` list of one
/// `[[registry]]`: its elements have no addresses of their own, so the list is
/// made equal as one unit.
extension TOMLEditor {
    /// Makes the array of tables `key` in `table` hold exactly `elements`, written
    /// as `[[table.key]]` sections. Nothing changes when it already does. Otherwise
    /// the old sections (and the comments inside them) give way to the new ones,
    /// written where the first stood, or after the table's own sections when there
    /// were none; an empty list removes them. An array written inline
    /// (`mirror = [{ … }]`) is set in place instead.
    @discardableResult
    public mutating func setTables(_ key: String, to elements: [TOMLTable],
                                   in table: TOMLTableAddress = .root) throws -> Bool {
        let wanted = TOMLValue.array(elements.map { .table($0) })
        try checkTableExists(table)
        let current = self.table(table)?[key]
        if current == wanted || (current == nil && elements.isEmpty) { return false }
        let path = table.path + [key]
        let check: (TOMLEditor) -> Bool = { $0.table(table)?[key] == (elements.isEmpty ? nil : wanted) }
        let what = "setting [[\(TOMLWriter.dottedKey(path))]] in \(table)"

        let sections = sectionHeaders(of: path, in: table)
        if sections.isEmpty {
            if let current {
                // Written inline (or as `key = []`): keep that form.
                guard current.array != nil else {
                    throw TOMLEditError("\(TOMLWriter.key(key)) in \(table) is \(current.typeName == "integer" ? "an" : "a") "
                        + "\(current.typeName), not an array of tables",
                        at: current.mark.map { SourceLocation(file: file, mark: $0) })
                }
                _ = elements.isEmpty ? try remove(key, from: table) : try set(key, to: wanted, in: table)
                return true
            }
            try apply(insertion(ofSections: elements, at: path, into: table), describing: what, check: check)
            return true
        }
        var edits: [Edit] = []
        for (n, header) in sections.enumerated() {
            let range = sectionRange(header, below: path)
            if n == 0 && !elements.isEmpty {
                edits.append(Edit(range: range, text: sectionsText(elements, at: path)))
            } else {
                // A removed section takes the blank lines above it along.
                edits.append(Edit(range: startOfBlankLines(above: range.lowerBound)..<range.upperBound, text: ""))
            }
        }
        try apply(edits, describing: what, check: check)
        return true
    }

    // MARK: Helpers

    /// The element (or table path) must exist, and be reachable without crossing another array of tables.
    private func checkTableExists(_ table: TOMLTableAddress) throws {
        guard let element = table.element else {
            try checkTablePath(table.path)
            return
        }
        try checkTablePath(Array(table.path.dropLast()))
        let count = try arrayOfTablesCount(at: table.path)
        guard element >= 0, element < count else {
            throw TOMLEditError("\(table) does not exist: the file has \(count) [[\(TOMLWriter.dottedKey(table.path))]] tables")
        }
    }

    /// Indices of the `[[path]]` headers that belong to `table`: for an element, those
    /// after its header and before the next element's.
    private func sectionHeaders(of path: [String], in table: TOMLTableAddress) -> [Int] {
        let statements = document.statements
        let all = statements.indices.filter { statements[$0].kind == .arrayTable && statements[$0].path == path }
        guard let element = table.element else { return all }
        let owners = statements.indices.filter { statements[$0].kind == .arrayTable && statements[$0].path == table.path }
        return all.filter { header in owners.last(where: { $0 < header }) == owners[element] }
    }

    /// From a header's line through the last line of its keys and of the sections nested below `path`.
    private func sectionRange(_ header: Int, below path: [String]) -> Range<Int> {
        let statements = document.statements
        var end = statements[header].lines.upperBound
        var k = header + 1
        while k < statements.count {
            let s = statements[k]
            guard s.kind == .keyValue || (s.path.count > path.count && s.path.starts(with: path)) else { break }
            end = s.lines.upperBound
            k += 1
        }
        return statements[header].lines.lowerBound..<end
    }

    /// New sections for a table that has none: after the element's last section, or at the end of the file.
    private func insertion(ofSections elements: [TOMLTable], at path: [String], into table: TOMLTableAddress) -> Edit {
        let text = sectionsText(elements, at: path)
        guard let element = table.element else { return appending(text) }
        let statements = document.statements
        let headers = statements.indices.filter { statements[$0].kind == .arrayTable && statements[$0].path == table.path }
        let end = sectionRange(headers[element], below: table.path).upperBound
        let unterminated = end == bytes.count && end > bomLength && bytes[end - 1] != TOMLByte.lf
        return Edit(range: end..<end, text: (unterminated ? newline : "") + newline + text)
    }

    /// `[[path]]` sections, one per element, separated by blank lines.
    private func sectionsText(_ elements: [TOMLTable], at path: [String]) -> String {
        elements.map { "[[" + TOMLWriter.dottedKey(path) + "]]" + newline + TOMLWriter.body(of: $0, at: path, newline: newline) }
            .joined(separator: newline)
    }

    /// Moves up from a line start over the blank lines directly above it.
    private func startOfBlankLines(above offset: Int) -> Int {
        var at = offset
        while at > bomLength {
            let previous = lineStart(before: at - 1)
            guard bytes[previous..<at].allSatisfy({ [TOMLByte.space, TOMLByte.tab, TOMLByte.cr, TOMLByte.lf].contains($0) })
            else { break }
            at = previous
        }
        return at
    }
}
