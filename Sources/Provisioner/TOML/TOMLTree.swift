/// The reader's mutable tree: tables live in an arena and refer to each other by
/// index, so adding a key deep inside never copies the tables above it. It also
/// enforces TOML's rules on where tables may be defined and extended.
struct TOMLTree {
    struct KeyPart {
        var name: String
        var mark: SourceMark
    }

    enum Child {
        /// Scalars, arrays and inline tables: closed once written.
        case value(TOMLValue)
        case table(Int)
        case arrayOfTables(Int)
    }

    enum TableState: Equatable {
        /// Created as the parent of a `[header]`; may still get its own header.
        case implicit
        /// By a `[header]`, as an `[[array]]` element, or an inline table.
        case defined
        /// Created by dotted keys: only the same section (or inline table) may extend it.
        case dotted(scope: Int)
    }

    struct Table {
        var keys: [String] = []
        var children: [String: Child] = [:]
        var state: TableState
        var mark: SourceMark
        var depth: Int
    }

    struct TableArray {
        var elements: [Int]
        var mark: SourceMark
    }

    static let maxDepth = 128
    static let root = 0

    let file: String
    private(set) var tables: [Table]
    private var arrays: [TableArray] = []

    init(file: String) {
        self.file = file
        tables = [Table(state: .defined, mark: SourceMark(line: 1, column: 1), depth: 0)]
    }

    func depth(of table: Int) -> Int { tables[table].depth }

    mutating func newTable(state: TableState, mark: SourceMark, depth: Int) throws -> Int {
        guard depth <= TOMLTree.maxDepth else {
            throw ParseError("tables nest deeper than \(TOMLTree.maxDepth) levels", at: location(mark))
        }
        tables.append(Table(state: state, mark: mark, depth: depth))
        return tables.count - 1
    }

    /// `[a.b.c]`: returns the table that the following keys go into.
    mutating func defineTable(_ key: [KeyPart]) throws -> Int {
        guard let last = key.last else { return TOMLTree.root }
        let parent = try headerParent(of: key)
        switch tables[parent].children[last.name] {
        case nil:
            let id = try newTable(state: .defined, mark: last.mark, depth: tables[parent].depth + 1)
            attach(.table(id), as: last.name, to: parent)
            return id
        case .table(let id):
            guard tables[id].state == .implicit else {
                let how = tables[id].state == .defined ? "defined" : "defined by dotted keys"
                throw conflict(last, "table [\(name(key))] is already \(how) at \(at(tables[id].mark))")
            }
            tables[id].state = .defined
            tables[id].mark = last.mark
            return id
        case .arrayOfTables(let id):
            throw conflict(last, "[\(name(key))] is already an array of tables, defined at \(at(arrays[id].mark))")
        case .value(let value):
            throw conflict(last, "key '\(name(key))' is already \(describe(value)); it cannot be a table too")
        }
    }

    /// `[[a.b.c]]`: appends an element and returns it.
    mutating func appendArrayTable(_ key: [KeyPart]) throws -> Int {
        guard let last = key.last else { return TOMLTree.root }
        let parent = try headerParent(of: key)
        let depth = tables[parent].depth + 2
        switch tables[parent].children[last.name] {
        case nil:
            let element = try newTable(state: .defined, mark: last.mark, depth: depth)
            arrays.append(TableArray(elements: [element], mark: last.mark))
            attach(.arrayOfTables(arrays.count - 1), as: last.name, to: parent)
            return element
        case .arrayOfTables(let id):
            let element = try newTable(state: .defined, mark: last.mark, depth: depth)
            arrays[id].elements.append(element)
            return element
        case .table(let id):
            throw conflict(last, "[[\(name(key))]] conflicts with the table defined at \(at(tables[id].mark))")
        case .value(let value):
            throw conflict(last, "key '\(name(key))' is already \(describe(value)); [[\(name(key))]] cannot extend it")
        }
    }

    /// `a.b.c = value` inside `table`; `scope` names the section or inline table being read.
    mutating func insert(_ child: Child, at key: [KeyPart], in table: Int, scope: Int) throws {
        var current = table
        for (i, part) in key.dropLast().enumerated() {
            switch tables[current].children[part.name] {
            case nil:
                let id = try newTable(state: .dotted(scope: scope), mark: part.mark, depth: tables[current].depth + 1)
                attach(.table(id), as: part.name, to: current)
                current = id
            case .table(let id):
                switch tables[id].state {
                case .implicit:
                    tables[id].state = .dotted(scope: scope)
                case .dotted(let owner) where owner == scope:
                    break
                default:
                    throw conflict(part, "dotted keys cannot add to table '\(name(key.prefix(i + 1)))', "
                        + "defined at \(at(tables[id].mark))")
                }
                current = id
            case .arrayOfTables(let id):
                throw conflict(part, "dotted keys cannot add to the array of tables '\(name(key.prefix(i + 1)))', "
                    + "defined at \(at(arrays[id].mark))")
            case .value(let value):
                throw conflict(part, "key '\(name(key.prefix(i + 1)))' is already \(describe(value)), not a table")
            }
        }
        guard let last = key.last else { return }
        if let existing = tables[current].children[last.name] {
            throw conflict(last, "duplicate key '\(name(key))', first defined at \(at(mark(of: existing)))")
        }
        attach(child, as: last.name, to: current)
    }

    func value(ofTable id: Int) -> TOMLValue {
        let children = tables[id].children.mapValues(value(of:))
        return TOMLValue(.table(TOMLTable(uniqueKeys: tables[id].keys, values: children)), mark: tables[id].mark)
    }

    private func value(of child: Child) -> TOMLValue {
        switch child {
        case .value(let value): return value
        case .table(let id): return value(ofTable: id)
        case .arrayOfTables(let id):
            return TOMLValue(.array(arrays[id].elements.map(value(ofTable:))), mark: arrays[id].mark)
        }
    }

    /// Walks a header's parents: missing tables appear (implicitly), arrays of
    /// tables lead to their last element, anything else is a conflict.
    private mutating func headerParent(of key: [KeyPart]) throws -> Int {
        var current = TOMLTree.root
        for (i, part) in key.dropLast().enumerated() {
            switch tables[current].children[part.name] {
            case nil:
                let id = try newTable(state: .implicit, mark: part.mark, depth: tables[current].depth + 1)
                attach(.table(id), as: part.name, to: current)
                current = id
            case .table(let id):
                current = id
            case .arrayOfTables(let id):
                guard let last = arrays[id].elements.last else { return current }
                current = last
            case .value(let value):
                throw conflict(part, "key '\(name(key.prefix(i + 1)))' is already \(describe(value)), not a table")
            }
        }
        return current
    }

    private mutating func attach(_ child: Child, as name: String, to table: Int) {
        tables[table].keys.append(name)
        tables[table].children[name] = child
    }

    private func mark(of child: Child) -> SourceMark {
        switch child {
        case .value(let value): return value.mark ?? SourceMark(line: 1, column: 1)
        case .table(let id): return tables[id].mark
        case .arrayOfTables(let id): return arrays[id].mark
        }
    }

    private func describe(_ value: TOMLValue) -> String {
        let article = value.typeName == "array" || value.typeName == "integer" ? "an" : "a"
        let what = value.table != nil ? "an inline table" : "\(article) \(value.typeName)"
        guard let mark = value.mark else { return what }
        return "\(what) (defined at \(at(mark)))"
    }

    private func name<Parts: Sequence>(_ key: Parts) -> String where Parts.Element == KeyPart {
        TOMLWriter.dottedKey(key.map(\.name))
    }

    private func at(_ mark: SourceMark) -> String { "line \(mark.line), column \(mark.column)" }

    private func location(_ mark: SourceMark) -> SourceLocation { SourceLocation(file: file, mark: mark) }

    private func conflict(_ part: KeyPart, _ message: String) -> ParseError {
        ParseError(message, at: location(part.mark))
    }
}
