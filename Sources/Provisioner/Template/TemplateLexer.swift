/// Jinja2's token stream, produced from UTF-8 bytes the way Jinja2's lexer does it:
/// text data, `{{ }}` / `{% %}` delimiters with their whitespace control (`-`, `+`,
/// trim_blocks), comments and `{% raw %}` dropped or kept as text, and expression tokens.
enum TemplateTokenKind: Equatable {
    case data(String)
    case variableBegin, variableEnd, blockBegin, blockEnd
    case name(String)
    case string(String)
    case integer(Int)
    case float(Double)
    case op(TemplateOperator)
    case eof
}

enum TemplateOperator: String {
    case add = "+", sub = "-", div = "/", floordiv = "//", mul = "*", mod = "%", pow = "**", tilde = "~"
    case lbracket = "[", rbracket = "]", lparen = "(", rparen = ")", lbrace = "{", rbrace = "}"
    case eq = "==", ne = "!=", gt = ">", gteq = ">=", lt = "<", lteq = "<=", assign = "="
    case dot = ".", colon = ":", pipe = "|", comma = ",", semicolon = ";"
}

struct TemplateToken {
    var kind: TemplateTokenKind
    /// Byte offset of the token in the template text, for error positions.
    var offset: Int
}

struct TemplateLexer {
    private let bytes: [UInt8]
    private var pos = 0
    private var tokens: [TemplateToken] = []
    private let trimBlocks = true  // Ansible's default everywhere (lstrip_blocks stays off).
    /// Ansible's `escape_backslashes`: string literals inside `{{ }}` keep their backslashes,
    /// because the YAML that held the template already processed escapes once.
    private var rawStringsInOutput = false

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Tokens of a whole template (text with `{{ }}`, `{% %}` and `{# #}`).
    static func tokenize(template bytes: [UInt8], escapeBackslashes: Bool = false) throws -> [TemplateToken] {
        var lexer = TemplateLexer(bytes)
        lexer.rawStringsInOutput = escapeBackslashes
        try lexer.lexRoot()
        lexer.tokens.append(TemplateToken(kind: .eof, offset: bytes.count))
        return lexer.tokens
    }

    /// Tokens of a bare expression (what `when:` holds).
    static func tokenize(expression bytes: [UInt8]) throws -> [TemplateToken] {
        var lexer = TemplateLexer(bytes)
        try lexer.lexExpression(until: nil, openedAt: 0)
        lexer.tokens.append(TemplateToken(kind: .eof, offset: bytes.count))
        return lexer.tokens
    }

    // MARK: Text

    private enum Tag { case variable, block }

    private mutating func lexRoot() throws {
        let n = bytes.count
        while pos < n {
            guard let open = nextTagStart(from: pos) else {
                emitData(pos, n)
                return
            }
            let kind = bytes[open + 1]
            var after = open + 2
            var sign: UInt8 = 0
            if after < n, bytes[after] == UInt8(ascii: "-") || bytes[after] == UInt8(ascii: "+") {
                sign = bytes[after]
                after += 1
            }
            if kind == UInt8(ascii: "%"), let rawEnd = rawBeginEnd(from: after) {
                emitData(pos, open, stripTrailing: sign == UInt8(ascii: "-"))
                try lexRaw(from: rawEnd, openedAt: open)
                continue
            }
            emitData(pos, open, stripTrailing: sign == UInt8(ascii: "-"))
            pos = after
            switch kind {
            case UInt8(ascii: "#"): try skipComment(openedAt: open)
            case UInt8(ascii: "{"):
                tokens.append(TemplateToken(kind: .variableBegin, offset: open))
                try lexExpression(until: .variable, openedAt: open)
            default:
                tokens.append(TemplateToken(kind: .blockBegin, offset: open))
                try lexExpression(until: .block, openedAt: open)
            }
        }
    }

    /// The next `{{`, `{%` or `{#` at or after `from`.
    private func nextTagStart(from start: Int) -> Int? {
        var i = start
        let n = bytes.count
        while i + 1 < n {
            if bytes[i] == UInt8(ascii: "{") {
                let next = bytes[i + 1]
                if next == UInt8(ascii: "{") || next == UInt8(ascii: "%") || next == UInt8(ascii: "#") { return i }
            }
            i += 1
        }
        return nil
    }

    private mutating func emitData(_ start: Int, _ end: Int, stripTrailing: Bool = false) {
        var end = end
        if stripTrailing {
            while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        }
        if end > start {
            tokens.append(TemplateToken(kind: .data(String(decoding: bytes[start..<end], as: UTF8.self)), offset: start))
        }
    }

    private func isSpace(_ b: UInt8) -> Bool {
        b == 0x20 || (b >= 0x09 && b <= 0x0D)
    }

    private func skipSpaces(_ i: inout Int) {
        while i < bytes.count, isSpace(bytes[i]) { i += 1 }
    }

    private func matches(_ word: String, at i: Int) -> Bool {
        var j = i
        for b in word.utf8 {
            guard j < bytes.count, bytes[j] == b else { return false }
            j += 1
        }
        return true
    }

    /// Where the text after `{% raw %}` starts, if a raw block begins here.
    private func rawBeginEnd(from start: Int) -> Int? {
        var i = start
        skipSpaces(&i)
        guard matches("raw", at: i) else { return nil }
        i += 3
        skipSpaces(&i)
        if matches("-%}", at: i) {
            i += 3
            skipSpaces(&i)
            return i
        }
        return matches("%}", at: i) ? i + 2 : nil
    }

    /// Emits everything up to `{% endraw %}` as text.
    private mutating func lexRaw(from start: Int, openedAt open: Int) throws {
        var i = start
        while let tag = nextTagStart(from: i) {
            i = tag + 1
            guard bytes[tag + 1] == UInt8(ascii: "%") else { continue }
            var j = tag + 2
            var sign: UInt8 = 0
            if j < bytes.count, bytes[j] == UInt8(ascii: "-") || bytes[j] == UInt8(ascii: "+") {
                sign = bytes[j]
                j += 1
            }
            skipSpaces(&j)
            guard matches("endraw", at: j) else { continue }
            j += 6
            skipSpaces(&j)
            guard let end = blockEnd(at: j) else { continue }
            emitData(start, tag, stripTrailing: sign == UInt8(ascii: "-"))
            pos = end
            return
        }
        throw TemplateError("Missing end of raw directive", at: open)
    }

    /// The position after a block end (`%}`, `-%}`, `+%}`) at `i`, with its whitespace control applied.
    private func blockEnd(at i: Int) -> Int? {
        if matches("-%}", at: i) {
            var j = i + 3
            skipSpaces(&j)
            return j
        }
        if matches("+%}", at: i) { return i + 3 }
        guard matches("%}", at: i) else { return nil }
        if trimBlocks, i + 2 < bytes.count, bytes[i + 2] == UInt8(ascii: "\n") { return i + 3 }
        return i + 2
    }

    private mutating func skipComment(openedAt open: Int) throws {
        var i = pos
        while i + 1 < bytes.count {
            if bytes[i] == UInt8(ascii: "#"), bytes[i + 1] == UInt8(ascii: "}") {
                let sign = i > pos ? bytes[i - 1] : 0
                var end = i + 2
                if sign == UInt8(ascii: "-") {
                    skipSpaces(&end)
                } else if sign != UInt8(ascii: "+"), trimBlocks, end < bytes.count, bytes[end] == UInt8(ascii: "\n") {
                    end += 1
                }
                pos = end
                return
            }
            i += 1
        }
        throw TemplateError("Missing end of comment tag", at: open)
    }

    // MARK: Expressions

    private mutating func lexExpression(until tag: Tag?, openedAt open: Int) throws {
        var balance: [UInt8] = []
        let n = bytes.count
        while true {
            skipSpaces(&pos)
            if pos >= n {
                switch tag {
                case .variable?:
                    throw TemplateError("unexpected end of template, expected '}}' to close the '{{' opened here", at: open)
                case .block?:
                    throw TemplateError("unexpected end of template, expected '%}' to close the '{%' opened here", at: open)
                case nil:
                    return
                }
            }
            if balance.isEmpty, let tag, endTag(tag) { return }
            try lexToken(balance: &balance, raw: rawStringsInOutput && tag == .variable)
        }
    }

    /// Consumes the closing delimiter of `tag` at `pos`, if it is there.
    private mutating func endTag(_ tag: Tag) -> Bool {
        switch tag {
        case .variable:
            if matches("-}}", at: pos) {
                tokens.append(TemplateToken(kind: .variableEnd, offset: pos))
                pos += 3
                skipSpaces(&pos)
                return true
            }
            if matches("}}", at: pos) {
                tokens.append(TemplateToken(kind: .variableEnd, offset: pos))
                pos += 2
                return true
            }
            return false
        case .block:
            guard let end = blockEnd(at: pos) else { return false }
            tokens.append(TemplateToken(kind: .blockEnd, offset: pos))
            pos = end
            return true
        }
    }

    private mutating func lexToken(balance: inout [UInt8], raw: Bool) throws {
        let start = pos
        let b = bytes[pos]
        if isDigit(b) {
            tokens.append(TemplateToken(kind: try lexNumber(), offset: start))
        } else if isNameStart(b) {
            while pos < bytes.count, isNameStart(bytes[pos]) || isDigit(bytes[pos]) { pos += 1 }
            tokens.append(TemplateToken(kind: .name(String(decoding: bytes[start..<pos], as: UTF8.self)), offset: start))
        } else if b == UInt8(ascii: "'") || b == UInt8(ascii: "\"") {
            tokens.append(TemplateToken(kind: .string(try lexString(raw: raw)), offset: start))
        } else {
            let op = try lexOperator()
            switch op {
            case .lbrace: balance.append(UInt8(ascii: "}"))
            case .lparen: balance.append(UInt8(ascii: ")"))
            case .lbracket: balance.append(UInt8(ascii: "]"))
            case .rbrace, .rparen, .rbracket:
                let closer = bytes[start]
                guard let expected = balance.popLast() else {
                    throw TemplateError("unexpected '\(op.rawValue)'", at: start)
                }
                guard expected == closer else {
                    throw TemplateError("unexpected '\(op.rawValue)', expected '\(Character(Unicode.Scalar(expected)))'", at: start)
                }
            default: break
            }
            tokens.append(TemplateToken(kind: .op(op), offset: start))
        }
    }

    private func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    private func isNameStart(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || b == UInt8(ascii: "_") || b >= 0x80
    }

    private mutating func lexOperator() throws -> TemplateOperator {
        if pos + 1 < bytes.count {
            let two = String(decoding: bytes[pos...(pos + 1)], as: UTF8.self)
            if let op = TemplateOperator(rawValue: two) {
                pos += 2
                return op
            }
        }
        if let op = TemplateOperator(rawValue: String(Unicode.Scalar(bytes[pos]))) {
            pos += 1
            return op
        }
        var end = pos + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
        throw TemplateError("unexpected char '\(String(decoding: bytes[pos..<end], as: UTF8.self))'", at: pos)
    }

    /// Digits with single `_` separators (`1_000`); returns the end, or nil when none start at `i`.
    private func digitRun(from i: Int, isValid: (UInt8) -> Bool) -> Int? {
        guard i < bytes.count, isValid(bytes[i]) else { return nil }
        var j = i + 1
        while j < bytes.count {
            if isValid(bytes[j]) {
                j += 1
            } else if bytes[j] == UInt8(ascii: "_"), j + 1 < bytes.count, isValid(bytes[j + 1]) {
                j += 2
            } else {
                break
            }
        }
        return j
    }

    private mutating func lexNumber() throws -> TemplateTokenKind {
        let start = pos
        // Floats first, as Jinja2 tries them first; not right after a dot (`x.0.1` is two subscripts).
        if start == 0 || bytes[start - 1] != UInt8(ascii: ".") , let intEnd = digitRun(from: start, isValid: isDigit) {
            var end = intEnd
            var isFloat = false
            if end < bytes.count, bytes[end] == UInt8(ascii: "."), let fractionEnd = digitRun(from: end + 1, isValid: isDigit) {
                end = fractionEnd
                isFloat = true
            }
            if end < bytes.count, bytes[end] | 0x20 == UInt8(ascii: "e") {
                var e = end + 1
                if e < bytes.count, bytes[e] == UInt8(ascii: "+") || bytes[e] == UInt8(ascii: "-") { e += 1 }
                if let exponentEnd = digitRun(from: e, isValid: isDigit) {
                    end = exponentEnd
                    isFloat = true
                }
            }
            if isFloat {
                pos = end
                let text = String(decoding: bytes[start..<end].filter { $0 != UInt8(ascii: "_") }, as: UTF8.self)
                guard let d = Double(text) else { throw TemplateError("invalid number '\(text)'", at: start) }
                return .float(d)
            }
        }
        if bytes[start] == UInt8(ascii: "0"), start + 1 < bytes.count {
            let radix: Int?
            switch bytes[start + 1] | 0x20 {
            case UInt8(ascii: "b"): radix = 2
            case UInt8(ascii: "o"): radix = 8
            case UInt8(ascii: "x"): radix = 16
            default: radix = nil
            }
            if let radix {
                var j = start + 2
                var digits: [UInt8] = []
                while j < bytes.count {
                    let c = bytes[j]
                    if c == UInt8(ascii: "_") { j += 1; continue }
                    guard let v = Int(String(Unicode.Scalar(c)), radix: radix), v >= 0 else { break }
                    digits.append(c)
                    j += 1
                }
                if !digits.isEmpty {
                    pos = j
                    guard let value = Int(String(decoding: digits, as: UTF8.self), radix: radix) else {
                        throw TemplateError("integer literal too large", at: start)
                    }
                    return .integer(value)
                }
            }
            // `0`, `00`, `0_0`: zero; a following digit starts a new token, as in Jinja2.
            var j = start + 1
            while j < bytes.count, bytes[j] == UInt8(ascii: "0") || (bytes[j] == UInt8(ascii: "_") && j + 1 < bytes.count && bytes[j + 1] == UInt8(ascii: "0")) { j += 1 }
            pos = j
            return .integer(0)
        }
        let end = digitRun(from: start, isValid: isDigit) ?? start + 1
        pos = end
        let text = String(decoding: bytes[start..<end].filter { $0 != UInt8(ascii: "_") }, as: UTF8.self)
        guard let value = Int(text) else { throw TemplateError("integer literal too large: \(text)", at: start) }
        return .integer(value)
    }

    private mutating func lexString(raw: Bool) throws -> String {
        let start = pos
        let quote = bytes[pos]
        var i = pos + 1
        while i < bytes.count, bytes[i] != quote {
            i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1
        }
        guard i < bytes.count else { throw TemplateError("unterminated string", at: start) }
        pos = i + 1
        if raw { return String(decoding: bytes[(start + 1)..<i], as: UTF8.self) }
        return try Self.unescape(bytes[(start + 1)..<i], at: start)
    }

    /// Python's `unicode-escape` decoding, which Jinja2 applies to string literals.
    static func unescape(_ raw: ArraySlice<UInt8>, at offset: Int) throws -> String {
        guard raw.contains(UInt8(ascii: "\\")) else { return String(decoding: raw, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = raw.startIndex
        func appendScalar(_ v: UInt32) throws {
            guard let scalar = Unicode.Scalar(v) else { throw TemplateError("invalid escape in string: code point \(v)", at: offset) }
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        }
        func hexValue(_ count: Int, from j: Int) throws -> UInt32 {
            guard j + count <= raw.endIndex,
                  let v = UInt32(String(decoding: raw[j..<(j + count)], as: UTF8.self), radix: 16) else {
                throw TemplateError("truncated \\\(count == 2 ? "x" : count == 4 ? "u" : "U") escape in string", at: offset)
            }
            return v
        }
        while i < raw.endIndex {
            let c = raw[i]
            guard c == UInt8(ascii: "\\"), i + 1 < raw.endIndex else {
                out.append(c)
                i += 1
                continue
            }
            let e = raw[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): out.append(e)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "a"): out.append(0x07)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "v"): out.append(0x0B)
            case UInt8(ascii: "\n"): break
            case UInt8(ascii: "x"): try appendScalar(hexValue(2, from: i)); i += 2
            case UInt8(ascii: "u"): try appendScalar(hexValue(4, from: i)); i += 4
            case UInt8(ascii: "U"): try appendScalar(hexValue(8, from: i)); i += 8
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var v = UInt32(e - UInt8(ascii: "0"))
                var digits = 1
                while digits < 3, i < raw.endIndex, raw[i] >= UInt8(ascii: "0"), raw[i] <= UInt8(ascii: "7") {
                    v = v * 8 + UInt32(raw[i] - UInt8(ascii: "0"))
                    i += 1
                    digits += 1
                }
                try appendScalar(v)
            default:
                out.append(UInt8(ascii: "\\"))
                out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
