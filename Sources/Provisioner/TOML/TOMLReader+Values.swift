/// Values: strings, numbers, booleans, date-times, arrays and inline tables.
extension TOMLReader {
    mutating func readValue(depth: Int) throws -> TOMLValue {
        guard depth <= TOMLTree.maxDepth else {
            throw error("values nest deeper than \(TOMLTree.maxDepth) levels")
        }
        let mark = mark()
        let kind: TOMLValue.Kind
        switch peek() {
        case TOMLByte.quote?:
            let multiline = peek(1) == TOMLByte.quote && peek(2) == TOMLByte.quote
            kind = .string(multiline ? try readMultilineString(literal: false) : try readBasicString())
        case TOMLByte.apostrophe?:
            let multiline = peek(1) == TOMLByte.apostrophe && peek(2) == TOMLByte.apostrophe
            kind = .string(multiline ? try readMultilineString(literal: true) : try readLiteralString())
        case TOMLByte.openBracket?:
            return try readArray(depth: depth, mark: mark)
        case TOMLByte.openBrace?:
            return try readInlineTable(depth: depth, mark: mark)
        case let c? where TOMLByte.isDigit(c) || c == TOMLByte.plus || c == TOMLByte.dash:
            kind = try readNumberOrDateTime()
        case let c? where TOMLReader.isBareKeyByte(c):
            let word = bytes[pos...].prefix(while: TOMLReader.isBareKeyByte)
            let isNumber = word.elementsEqual("inf".utf8) || word.elementsEqual("nan".utf8)
            kind = isNumber ? try readNumberOrDateTime() : .boolean(try readBoolean())
        default:
            throw error("expected a value, found \(found())")
        }
        return TOMLValue(kind, mark: mark)
    }

    private mutating func readBoolean() throws -> Bool {
        var end = pos
        while end < bytes.count, TOMLReader.isBareKeyByte(bytes[end]) { end += 1 }
        let word = bytes[pos..<end]
        if word.elementsEqual("true".utf8) || word.elementsEqual("false".utf8) {
            pos = end
            return word.count == 4
        }
        throw error("expected a value, found '\(String(decoding: word, as: UTF8.self))' "
            + "(strings need quotes; booleans are true and false)")
    }

    // MARK: Arrays and inline tables

    private mutating func readArray(depth: Int, mark: SourceMark) throws -> TOMLValue {
        pos += 1
        var items: [TOMLValue] = []
        while true {
            try skipBlanksCommentsAndNewlines()
            if peek() == TOMLByte.closeBracket { break }
            items.append(try readValue(depth: depth + 1))
            try skipBlanksCommentsAndNewlines()
            if peek() == TOMLByte.comma {
                pos += 1
            } else if peek() != TOMLByte.closeBracket {
                throw error("expected ',' or ']' in the array, found \(found())")
            }
        }
        pos += 1
        return TOMLValue(.array(items), mark: mark)
    }

    /// Built in the tree so dotted keys inside follow the same rules, then closed into a value.
    private mutating func readInlineTable(depth: Int, mark: SourceMark) throws -> TOMLValue {
        pos += 1
        let id = try tree.newTable(state: .defined, mark: mark, depth: depth)
        let scope = -id  // unique, and apart from section scopes (which are positive)
        skipBlanks()
        if peek() == TOMLByte.closeBrace {
            pos += 1
            return tree.value(ofTable: id)
        }
        while true {
            let key = try readKey()
            try expectEquals()
            let value = try readValue(depth: depth + key.count)
            try tree.insert(.value(value), at: key, in: id, scope: scope)
            skipBlanks()
            if peek() == TOMLByte.closeBrace {
                pos += 1
                return tree.value(ofTable: id)
            }
            guard peek() == TOMLByte.comma else {
                throw error("expected ',' or '}' in the inline table, found \(found())")
            }
            pos += 1
            skipBlanks()
            if peek() == TOMLByte.closeBrace { throw error("a trailing comma is not allowed in an inline table") }
        }
    }

    // MARK: Strings

    mutating func readBasicString() throws -> String {
        pos += 1
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count else { throw error("unterminated string: expected '\"'") }
            let c = bytes[pos]
            switch c {
            case TOMLByte.quote:
                pos += 1
                return String(decoding: out, as: UTF8.self)
            case TOMLByte.backslash:
                try readEscape(into: &out)
            case TOMLByte.lf, TOMLByte.cr:
                throw error("unterminated string: a one-line string must end on its line")
            default:
                if TOMLByte.isControl(c) {
                    throw error("control character \(TOMLByte.codePoint(c)) must be escaped in a string")
                }
                out.append(c)
                pos += 1
            }
        }
    }

    mutating func readLiteralString() throws -> String {
        pos += 1
        let start = pos
        while true {
            guard pos < bytes.count else { throw error("unterminated literal string: expected \"'\"") }
            let c = bytes[pos]
            if c == TOMLByte.apostrophe { break }
            if c == TOMLByte.lf || c == TOMLByte.cr {
                throw error("unterminated literal string: a one-line string must end on its line")
            }
            if TOMLByte.isControl(c) {
                throw error("control character \(TOMLByte.codePoint(c)) is not allowed in a literal string")
            }
            pos += 1
        }
        defer { pos += 1 }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    /// `"""…"""` or `'''…'''`. Line breaks come out as LF; a break right after
    /// the opening quotes is dropped; up to two quotes may precede the closing three.
    private mutating func readMultilineString(literal: Bool) throws -> String {
        let delimiter = literal ? TOMLByte.apostrophe : TOMLByte.quote
        pos += 3
        if peek() == TOMLByte.lf {
            pos += 1
            startLine()
        } else if peek() == TOMLByte.cr, peek(1) == TOMLByte.lf {
            pos += 2
            startLine()
        }
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count else {
                throw error("unterminated multi-line string: expected \(literal ? "'''" : "\"\"\"")")
            }
            let c = bytes[pos]
            switch c {
            case delimiter:
                var run = 1
                while peek(run) == delimiter { run += 1 }
                if run >= 3 {
                    guard run <= 5 else { throw error("too many quotes at the end of a multi-line string") }
                    out.append(contentsOf: repeatElement(delimiter, count: run - 3))
                    pos += run
                    return String(decoding: out, as: UTF8.self)
                }
                out.append(contentsOf: repeatElement(delimiter, count: run))
                pos += run
            case TOMLByte.backslash where !literal:
                if try !skipLineEndingBackslash() { try readEscape(into: &out) }
            case TOMLByte.lf:
                out.append(TOMLByte.lf)
                pos += 1
                startLine()
            case TOMLByte.cr:
                guard peek(1) == TOMLByte.lf else { throw error("a carriage return must be followed by a line feed") }
                out.append(TOMLByte.lf)
                pos += 2
                startLine()
            default:
                if TOMLByte.isControl(c) {
                    throw error("control character \(TOMLByte.codePoint(c)) is not allowed in a string")
                }
                out.append(c)
                pos += 1
            }
        }
    }

    /// A `\` that ends a line swallows the break and all blanks and breaks after it.
    private mutating func skipLineEndingBackslash() throws -> Bool {
        var i = pos + 1
        while i < bytes.count, bytes[i] == TOMLByte.space || bytes[i] == TOMLByte.tab { i += 1 }
        guard i < bytes.count, bytes[i] == TOMLByte.lf || bytes[i] == TOMLByte.cr else { return false }
        pos = i
        while pos < bytes.count {
            switch bytes[pos] {
            case TOMLByte.space, TOMLByte.tab: pos += 1
            case TOMLByte.lf, TOMLByte.cr:
                guard bytes[pos] == TOMLByte.lf || peek(1) == TOMLByte.lf else {
                    throw error("a carriage return must be followed by a line feed")
                }
                pos += bytes[pos] == TOMLByte.lf ? 1 : 2
                startLine()
            default: return true
            }
        }
        return true
    }

    private mutating func readEscape(into out: inout [UInt8]) throws {
        guard let c = peek(1) else { throw error("unterminated string: expected '\"'") }
        let simple: UInt8?
        switch c {
        case 0x62: simple = 0x08  // \b
        case 0x74: simple = TOMLByte.tab  // \t
        case 0x6E: simple = TOMLByte.lf  // \n
        case 0x66: simple = 0x0C  // \f
        case 0x72: simple = TOMLByte.cr  // \r
        case TOMLByte.quote, TOMLByte.backslash: simple = c
        case 0x75, 0x55: simple = nil  // \u, \U
        default:
            let shown = c >= 0x20 && c < 0x7F ? "\\\(Character(Unicode.Scalar(c)))" : "\\ followed by \(TOMLByte.codePoint(c))"
            throw error("invalid escape sequence '\(shown)'")
        }
        if let simple {
            out.append(simple)
            pos += 2
            return
        }
        let count = c == 0x75 ? 4 : 8
        var value: UInt32 = 0
        for i in 0..<count {
            guard let h = peek(2 + i), let digit = TOMLReader.hexValue(h) else {
                throw error("expected \(count) hexadecimal digits after '\\\(c == 0x75 ? "u" : "U")'")
            }
            value = value << 4 | UInt32(digit)
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw error("escape '\\\(c == 0x75 ? "u" : "U")' names U+\(String(value, radix: 16, uppercase: true)), "
                + "which is not a Unicode scalar value")
        }
        UTF8.encode(scalar) { out.append($0) }
        pos += 2 + count
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }
}
