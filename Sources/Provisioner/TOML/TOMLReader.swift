/// Hand-written TOML 1.0 reader over UTF-8 bytes. It keeps one cursor and never
/// backtracks more than a few bytes, so reading is linear in the input size.
struct TOMLReader {
    let bytes: [UInt8]
    let file: String
    var pos = 0
    var line = 1
    var lineStart = 0
    var tree: TOMLTree
    var statements: [TOMLStatement] = []

    /// Column cache: marks are asked for in increasing order along a line, so
    /// counting on from the last one keeps long lines linear.
    private var cachedOffset = 0
    private var cachedColumn = 1

    /// The section being read: its table, its scope (for dotted-key rules) and its header statement.
    private var table = TOMLTree.root
    private var scope = 0
    private var section: Int?
    private var scopeCount = 1

    static func read(_ bytes: [UInt8], file: String) throws -> TOMLDocument {
        var reader = TOMLReader(bytes: bytes, file: file, tree: TOMLTree(file: file))
        try reader.readDocument()
        let root = reader.tree.value(ofTable: TOMLTree.root).table ?? TOMLTable()
        return TOMLDocument(root: root, statements: reader.statements)
    }

    private init(bytes: [UInt8], file: String, tree: TOMLTree) {
        self.bytes = bytes
        self.file = file
        self.tree = tree
    }

    private mutating func readDocument() throws {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            pos = 3
            lineStart = 3
            cachedOffset = 3
        }
        try validateUTF8()
        while true {
            skipBlanks()
            guard pos < bytes.count else { return }
            let first = lineStart
            switch bytes[pos] {
            case TOMLByte.hash: try finishLine()
            case TOMLByte.lf, TOMLByte.cr: try endLine()
            case TOMLByte.openBracket: try readHeader(lineStart: first)
            default: try readKeyValueStatement(lineStart: first)
            }
        }
    }

    // MARK: Statements

    private mutating func readHeader(lineStart first: Int) throws {
        let isArray = peek(1) == TOMLByte.openBracket
        pos += isArray ? 2 : 1
        skipBlanks()
        let key = try readKey()
        guard peek() == TOMLByte.closeBracket, !isArray || peek(1) == TOMLByte.closeBracket else {
            let close = isArray ? "']]' to close the array-of-tables header" : "']' to close the table header"
            throw error("expected \(close), found \(found())")
        }
        pos += isArray ? 2 : 1
        table = isArray ? try tree.appendArrayTable(key) : try tree.defineTable(key)
        scope = scopeCount
        scopeCount += 1
        try finishLine()
        section = statements.count
        statements.append(TOMLStatement(
            kind: isArray ? .arrayTable : .table, path: key.map(\.name), section: nil,
            lines: first..<pos, value: pos..<pos))
    }

    private mutating func readKeyValueStatement(lineStart first: Int) throws {
        let key = try readKey()
        try expectEquals()
        let valueStart = pos
        let value = try readValue(depth: tree.depth(of: table) + key.count)
        let valueEnd = pos
        try tree.insert(.value(value), at: key, in: table, scope: scope)
        try finishLine()
        statements.append(TOMLStatement(
            kind: .keyValue, path: key.map(\.name), section: section,
            lines: first..<pos, value: valueStart..<valueEnd))
    }

    /// A statement may be followed by blanks and a comment, then the line must end.
    private mutating func finishLine() throws {
        skipBlanks()
        if peek() == TOMLByte.hash { try skipComment() }
        try endLine()
    }

    private mutating func endLine() throws {
        guard pos < bytes.count else { return }
        switch bytes[pos] {
        case TOMLByte.lf:
            pos += 1
            startLine()
        case TOMLByte.cr where peek(1) == TOMLByte.lf:
            pos += 2
            startLine()
        case TOMLByte.cr:
            throw error("a carriage return must be followed by a line feed")
        default:
            throw error("expected the end of the line, found \(found())")
        }
    }

    mutating func startLine() {
        line += 1
        lineStart = pos
    }

    mutating func skipBlanks() {
        while pos < bytes.count, bytes[pos] == TOMLByte.space || bytes[pos] == TOMLByte.tab { pos += 1 }
    }

    mutating func skipComment() throws {
        pos += 1
        while pos < bytes.count {
            let c = bytes[pos]
            if c == TOMLByte.lf || (c == TOMLByte.cr && peek(1) == TOMLByte.lf) { return }
            if TOMLByte.isControl(c) {
                throw error("control character \(TOMLByte.codePoint(c)) is not allowed in a comment")
            }
            pos += 1
        }
    }

    /// Blanks, comments and line breaks: what may separate array elements.
    mutating func skipBlanksCommentsAndNewlines() throws {
        while true {
            skipBlanks()
            guard pos < bytes.count else { return }
            switch bytes[pos] {
            case TOMLByte.hash: try skipComment()
            case TOMLByte.lf, TOMLByte.cr: try endLine()
            default: return
            }
        }
    }

    // MARK: Keys

    static func isBareKeyByte(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39)
            || c == TOMLByte.dash || c == TOMLByte.underscore
    }

    /// `a`, `"quoted"`, `'literal'`, dotted: `a . "b".c`; consumes trailing blanks.
    mutating func readKey() throws -> [TOMLTree.KeyPart] {
        var parts: [TOMLTree.KeyPart] = []
        while true {
            let mark = mark()
            let name: String
            switch peek() {
            case TOMLByte.quote:
                guard !(peek(1) == TOMLByte.quote && peek(2) == TOMLByte.quote) else {
                    throw error("a key cannot be a multi-line string")
                }
                name = try readBasicString()
            case TOMLByte.apostrophe:
                guard !(peek(1) == TOMLByte.apostrophe && peek(2) == TOMLByte.apostrophe) else {
                    throw error("a key cannot be a multi-line string")
                }
                name = try readLiteralString()
            case let c? where TOMLReader.isBareKeyByte(c):
                let start = pos
                while pos < bytes.count, TOMLReader.isBareKeyByte(bytes[pos]) { pos += 1 }
                name = String(decoding: bytes[start..<pos], as: UTF8.self)
            default:
                throw error("expected a key, found \(found())")
            }
            parts.append(TOMLTree.KeyPart(name: name, mark: mark))
            skipBlanks()
            guard peek() == TOMLByte.dot else { return parts }
            pos += 1
            skipBlanks()
        }
    }

    mutating func expectEquals() throws {
        guard peek() == TOMLByte.equals else { throw error("expected '=' after the key, found \(found())") }
        pos += 1
        skipBlanks()
    }

    // MARK: Positions and errors

    func peek(_ ahead: Int = 0) -> UInt8? {
        let i = pos + ahead
        return i < bytes.count ? bytes[i] : nil
    }

    /// The position of `offset`, which must lie on the current line.
    mutating func mark(at offset: Int? = nil) -> SourceMark {
        let offset = min(offset ?? pos, bytes.count)
        guard offset >= lineStart else { return TOMLReader.markByScanning(bytes, to: offset) }
        if cachedOffset < lineStart || cachedOffset > offset {
            cachedOffset = lineStart
            cachedColumn = 1
        }
        var column = cachedColumn
        for i in cachedOffset..<offset where bytes[i] & 0xC0 != 0x80 { column += 1 }
        cachedOffset = offset
        cachedColumn = column
        return SourceMark(line: line, column: column)
    }

    /// Line and column of any offset, counted from the start: only for errors.
    static func markByScanning(_ bytes: [UInt8], to offset: Int) -> SourceMark {
        var line = 1
        var column = 1
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        for i in start..<max(start, min(offset, bytes.count)) {
            if bytes[i] == TOMLByte.lf {
                line += 1
                column = 1
            } else if bytes[i] & 0xC0 != 0x80 {
                column += 1
            }
        }
        return SourceMark(line: line, column: column)
    }

    mutating func error(_ message: String, at offset: Int? = nil) -> ParseError {
        ParseError(message, at: SourceLocation(file: file, mark: mark(at: offset)))
    }

    /// What the cursor is on, for "expected X, found Y".
    func found() -> String {
        guard pos < bytes.count else { return "the end of the file" }
        let c = bytes[pos]
        switch c {
        case TOMLByte.lf, TOMLByte.cr: return "the end of the line"
        case 0x20..<0x7F: return "'\(Character(Unicode.Scalar(c)))'"
        case 0..<0x20, 0x7F: return "control character \(TOMLByte.codePoint(c))"
        default:
            var end = pos + 1
            while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
            let text = String(decoding: bytes[pos..<end], as: UTF8.self)
            let scalar = text.unicodeScalars.first.map { "U+" + String($0.value, radix: 16, uppercase: true) } ?? ""
            return "'\(text)' (\(scalar))"
        }
    }
}

/// Where a top-level statement sits in the source: what the editor splices.
struct TOMLStatement: Sendable {
    enum Kind: Sendable { case table, arrayTable, keyValue }

    var kind: Kind
    /// The header's key, or the key relative to its section.
    var path: [String]
    /// For a key/value: the index of its section's header statement; nil in the root section.
    var section: Int?
    /// From the start of the statement's first line through the line break after it.
    var lines: Range<Int>
    /// For a key/value: the value's bytes.
    var value: Range<Int>
}

/// TOMLByte constants, so the reader can switch on bytes instead of Characters.
enum TOMLByte {
    static let tab: UInt8 = 0x09, lf: UInt8 = 0x0A, cr: UInt8 = 0x0D, space: UInt8 = 0x20
    static let quote: UInt8 = 0x22, hash: UInt8 = 0x23, apostrophe: UInt8 = 0x27, plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C, dash: UInt8 = 0x2D, dot: UInt8 = 0x2E, colon: UInt8 = 0x3A
    static let equals: UInt8 = 0x3D, openBracket: UInt8 = 0x5B, backslash: UInt8 = 0x5C
    static let closeBracket: UInt8 = 0x5D, underscore: UInt8 = 0x5F, openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D

    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    /// TOML forbids these everywhere except as escapes: U+0000–U+0008, U+000A–U+001F, U+007F.
    /// (Line breaks are handled before this check.)
    static func isControl(_ c: UInt8) -> Bool { (c < 0x20 && c != tab) || c == 0x7F }

    static func codePoint(_ c: UInt8) -> String {
        let hex = String(c, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}
