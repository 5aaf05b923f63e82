/// Edits TOML text in place: each change splices only the bytes it must, so
/// comments, blank lines, key order and spacing elsewhere stay as they were,
/// and a file that needs no change comes back byte for byte.
///
///     var editor = try TOMLEditor(text: original, file: path)
///     try editor.set("graphroot", to: "/srv/containers", in: ["storage"])
///     try editor.set("runtime", to: "runc", in: ["engine"])
///     if editor.isChanged { write(editor.text) }
public struct TOMLEditor: Sendable {
    public let file: String
    /// The bytes the editor started from.
    public let original: [UInt8]
    public private(set) var bytes: [UInt8]
    /// The current text, parsed.
    public private(set) var document: TOMLDocument

    public init(bytes: [UInt8], file: String = "<toml>") throws {
        self.file = file
        original = bytes
        self.bytes = bytes
        document = try TOMLDocument(parsing: bytes, file: file)
    }

    public init(text: String, file: String = "<toml>") throws {
        try self.init(bytes: Array(text.utf8), file: file)
    }

    /// One-shot form: `text` with `edits` applied, and whether that changed it.
    ///
    ///     let (text, changed) = try TOMLEditor.edit(original, file: path) {
    ///         try $0.merge(["driver": "overlay", "graphroot": "/srv/c"], into: ["storage"])
    ///     }
    public static func edit(_ text: String, file: String = "<toml>",
                            _ edits: (inout TOMLEditor) throws -> Void) throws -> (text: String, changed: Bool) {
        var editor = try TOMLEditor(text: text, file: file)
        try edits(&editor)
        return (editor.text, editor.isChanged)
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Whether the text differs from `original`.
    public var isChanged: Bool { bytes != original }

    // MARK: Queries

    public func value(_ key: String, in table: TOMLTableAddress = .root) -> TOMLValue? {
        self.table(table)?[key]
    }

    public func table(_ address: TOMLTableAddress) -> TOMLTable? {
        guard let value = document.value(at: address.path) else { return nil }
        guard let element = address.element else { return value.table }
        guard let items = value.array, items.indices.contains(element) else { return nil }
        return items[element].table
    }

    /// The elements of the array of tables at `path` (`[[registry]]`), empty when there is none.
    public func elements(of path: [String]) -> [TOMLTable] {
        document.value(at: path)?.array?.compactMap(\.table) ?? []
    }

    // MARK: Edits (each returns whether the text changed)

    /// Sets `key` in `table` to `value`, written canonically. An existing key
    /// keeps its place (and any comment after it); a missing key goes after the
    /// table's last key, and a missing table is added at the end of the file.
    /// Setting the value the key already has changes nothing.
    @discardableResult
    public mutating func set(_ key: String, to value: TOMLValue, in table: TOMLTableAddress = .root) throws -> Bool {
        if let current = self.value(key, in: table), current == value { return false }
        let edit: Edit
        switch try locate(key, in: table) {
        case .statement(let i):
            edit = Edit(range: document.statements[i].value, text: TOMLWriter.text(of: value))
        case let .inside(i, path, rest):
            var whole = document.value(at: path) ?? .table(TOMLTable())
            try whole.set(rest, to: value, editing: path, in: file)
            edit = Edit(range: document.statements[i].value, text: TOMLWriter.text(of: whole))
        case let .missing(section, prefix):
            edit = insertion(TOMLWriter.dottedKey(prefix + [key]) + " = " + TOMLWriter.text(of: value), into: section)
        case .missingTable(let path):
            let header = "[" + TOMLWriter.dottedKey(path) + "]" + newline
            edit = appending(header + TOMLWriter.key(key) + " = " + TOMLWriter.text(of: value) + newline)
        }
        try apply(edit, describing: "setting \(TOMLWriter.key(key)) in \(table)") { $0.value(key, in: table) == value }
        return true
    }

    /// Sets each key of `entries` in `table`, in order.
    @discardableResult
    public mutating func merge(_ entries: TOMLTable, into table: TOMLTableAddress = .root) throws -> Bool {
        var changed = false
        for (key, value) in entries.entries {
            if try set(key, to: value, in: table) { changed = true }
        }
        return changed
    }

    /// Removes `key` (its whole line, with any comment on it) from `table`; nothing if it is absent.
    @discardableResult
    public mutating func remove(_ key: String, from table: TOMLTableAddress = .root) throws -> Bool {
        guard value(key, in: table) != nil else { return false }
        let edit: Edit
        switch try locate(key, in: table) {
        case .statement(let i):
            edit = Edit(range: document.statements[i].lines, text: "")
        case let .inside(i, path, rest):
            var whole = document.value(at: path) ?? .table(TOMLTable())
            whole.remove(rest)
            edit = Edit(range: document.statements[i].value, text: TOMLWriter.text(of: whole))
        case .missing, .missingTable:
            return false
        }
        try apply(edit, describing: "removing \(TOMLWriter.key(key)) from \(table)") { $0.value(key, in: table) == nil }
        return true
    }

    /// Adds an empty `[path]` table at the end of the file unless the table exists.
    @discardableResult
    public mutating func addTable(_ path: [String]) throws -> Bool {
        guard let key = path.last else { return false }
        try checkTablePath(path)
        if document.value(at: path) != nil { return false }
        let edit: Edit
        if case let .inside(i, outer, rest) = try locate(key, in: TOMLTableAddress(Array(path.dropLast()))) {
            var whole = document.value(at: outer) ?? .table(TOMLTable())
            try whole.set(rest, to: .table(TOMLTable()), editing: outer, in: file)
            edit = Edit(range: document.statements[i].value, text: TOMLWriter.text(of: whole))
        } else {
            edit = appending("[" + TOMLWriter.dottedKey(path) + "]" + newline)
        }
        try apply(edit, describing: "adding [\(TOMLWriter.dottedKey(path))]") { $0.document.value(at: path)?.table != nil }
        return true
    }

    /// Appends a `[[path]]` element holding `entries` at the end of the file and
    /// returns its index. Sub-tables become `[path.key]` / `[[path.key]]` sections.
    @discardableResult
    public mutating func appendTable(_ entries: TOMLTable, to path: [String]) throws -> Int {
        guard !path.isEmpty else { throw TOMLEditError("an array of tables needs a name") }
        try checkTablePath(Array(path.dropLast()))
        let count = try arrayOfTablesCount(at: path)
        let text = "[[" + TOMLWriter.dottedKey(path) + "]]" + newline
            + TOMLWriter.body(of: entries, at: path, newline: newline)
        try apply(appending(text), describing: "appending [[\(TOMLWriter.dottedKey(path))]]") {
            $0.elements(of: path).count == count + 1 && $0.elements(of: path).last == entries
        }
        return count
    }

    // MARK: Splicing

    struct Edit {
        var range: Range<Int>
        var text: String
    }

    /// Splices, re-reads the result and checks it says what was asked; the
    /// editor stays as it was when either fails.
    mutating func apply(_ edit: Edit, describing what: String, check: (TOMLEditor) -> Bool) throws {
        try apply([edit], describing: what, check: check)
    }

    /// The same for several edits at once; their ranges (in the current bytes) must not overlap.
    mutating func apply(_ edits: [Edit], describing what: String, check: (TOMLEditor) -> Bool) throws {
        var next = self
        for edit in edits.sorted(by: { $0.range.lowerBound > $1.range.lowerBound }) {
            next.bytes.replaceSubrange(edit.range, with: Array(edit.text.utf8))
        }
        do {
            next.document = try TOMLDocument(parsing: next.bytes, file: file)
        } catch {
            throw TOMLEditError("\(what) would leave \(file) invalid: \(error)")
        }
        guard check(next) else { throw TOMLEditError("\(what) did not take effect in \(file)") }
        self = next
    }

    /// The file's own line break: CRLF if its first line ends so.
    var newline: String {
        guard let lf = bytes.firstIndex(of: TOMLByte.lf) else { return "\n" }
        return lf > 0 && bytes[lf - 1] == TOMLByte.cr ? "\r\n" : "\n"
    }

    var bomLength: Int { bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0 }
}
