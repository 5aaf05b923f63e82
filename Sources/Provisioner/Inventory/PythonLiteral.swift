/// Python's `ast.literal_eval` as Ansible's INI inventory applies it to every
/// value: `port=22` is an int, `flag=True` a bool, `x="'22'"` the string "22",
/// and anything that is not a literal (`yes`, `/tmp/x`, `127.0.0.1`) stays the
/// text it was. Tuples and sets become lists, as Ansible turns them into lists.
///
/// Not reproduced: complex numbers and integers beyond 64 bits (kept as text),
/// `\N{name}` escapes (kept as text).
enum PythonLiteral {
    /// The value Ansible's INI plugin gives `text`.
    static func value(of text: String) -> Value {
        var parser = Parser(Array(text.unicodeScalars))
        return parser.parseWhole() ?? .string(text)
    }

    private struct Parser {
        let s: [Unicode.Scalar]
        var i = 0

        init(_ scalars: [Unicode.Scalar]) { s = scalars }

        var atEnd: Bool { i >= s.count }
        func peek(_ offset: Int = 0) -> Unicode.Scalar? { i + offset < s.count ? s[i + offset] : nil }

        /// The whole input as one literal expression, nil when Python would not evaluate it.
        mutating func parseWhole() -> Value? {
            // literal_eval strips leading spaces and tabs only; other leading blanks are an IndentationError.
            while let c = peek(), c == " " || c == "\t" { i += 1 }
            guard let list = parseExpressionList(closing: nil), !list.items.isEmpty else { return nil }
            skipBlanks()
            guard atEnd else { return nil }
            return list.sawComma ? .list(list.items) : list.items[0]
        }

        /// Blanks and a trailing `#` comment, which the Python tokenizer ignores.
        mutating func skipBlanks() {
            while let c = peek() {
                if c == " " || c == "\t" || c == "\u{0C}" {
                    i += 1
                } else if c == "#" {
                    i = s.count
                } else {
                    return
                }
            }
        }

        /// `a, b, c` or a single expression, stopping before `closing`; `sawComma` tells a
        /// tuple (a list) from a parenthesised expression.
        mutating func parseExpressionList(closing: Unicode.Scalar?) -> (items: [Value], sawComma: Bool)? {
            skipBlanks()
            if let closing, peek() == closing { return ([], false) }
            var items: [Value] = []
            var sawComma = false
            while true {
                guard let item = parseExpression() else { return nil }
                items.append(item)
                skipBlanks()
                guard peek() == "," else { break }
                sawComma = true
                i += 1
                skipBlanks()
                if atEnd || peek() == closing { break }
            }
            return (items, sawComma)
        }

        mutating func parseExpression() -> Value? {
            skipBlanks()
            guard let c = peek() else { return nil }
            switch c {
            case "+", "-":
                // Only a sign directly applied to a number literal is a literal.
                i += 1
                skipBlanks()
                guard let next = peek(), next.isASCIIDigit || next == "." && (peek(1)?.isASCIIDigit ?? false) else { return nil }
                guard let number = parseNumber() else { return nil }
                if c == "+" { return number }
                switch number {
                case .int(let n): return n == Int.min ? nil : .int(-n)
                case .float(let d): return .float(-d)
                default: return nil
                }
            case "[":
                i += 1
                guard let inner = parseExpressionList(closing: "]"), peek() == "]" else { return nil }
                i += 1
                return .list(inner.items)
            case "(":
                i += 1
                guard let inner = parseExpressionList(closing: ")"), peek() == ")" else { return nil }
                i += 1
                return inner.sawComma || inner.items.isEmpty ? .list(inner.items) : inner.items[0]
            case "{":
                i += 1
                return parseBraces()
            case ".":
                if peek(1) == ".", peek(2) == "." { i += 3; return .string("...") }
                return parseNumber()
            case "\"", "'":
                return parseStrings()
            default:
                if c.isASCIIDigit { return parseNumber() }
                if c.properties.isXIDStart || c == "_" { return parseNameOrPrefixedString() }
                return nil
            }
        }

        mutating func parseBraces() -> Value? {
            skipBlanks()
            if peek() == "}" { i += 1; return .dict(ValueDict()) }
            guard let first = parseExpression() else { return nil }
            skipBlanks()
            if peek() == ":" {
                var dict = ValueDict()
                var key = first
                while true {
                    guard peek() == ":" else { return nil }
                    i += 1
                    guard let value = parseExpression(), let keyText = Self.keyText(key) else { return nil }
                    dict[keyText] = value
                    skipBlanks()
                    if peek() == "," { i += 1; skipBlanks() }
                    else if peek() == "}" { i += 1; return .dict(dict) }
                    else { return nil }
                    if peek() == "}" { i += 1; return .dict(dict) }
                    guard let next = parseExpression() else { return nil }
                    key = next
                    skipBlanks()
                }
            }
            // A set: unhashable members make Python fail, so they are not literals here either.
            var members: [Value] = []
            var item = first
            while true {
                guard Self.keyText(item) != nil else { return nil }
                if !members.contains(item) { members.append(item) }
                skipBlanks()
                if peek() == "," { i += 1; skipBlanks() }
                else if peek() == "}" { i += 1; return .list(members) }
                else { return nil }
                if peek() == "}" { i += 1; return .list(members) }
                guard let next = parseExpression() else { return nil }
                item = next
            }
        }

        /// A dict key as JSON writes it; nil for unhashable keys (lists, dicts).
        static func keyText(_ key: Value) -> String? {
            switch key {
            case .null: return "null"
            case .bool(let b): return b ? "true" : "false"
            case .int(let n): return String(n)
            case .float(let d): return JSONWriter.pythonFloatText(d)
            case .string(let text): return text
            case .unsafe(let v): return keyText(v)
            case .list, .dict: return nil
            }
        }

        mutating func parseNameOrPrefixedString() -> Value? {
            let start = i
            while let c = peek(), c.properties.isXIDContinue || c == "_" { i += 1 }
            let name = String(String.UnicodeScalarView(s[start..<i]))
            if let quote = peek(), quote == "\"" || quote == "'" {
                let prefix = name.lowercased()
                guard ["r", "u", "b", "br", "rb"].contains(prefix) else { return nil }
                i = start
                return parseStrings()
            }
            switch name {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .null
            default: return nil
            }
        }

        // MARK: Numbers

        mutating func digitPart(_ isDigit: (Unicode.Scalar) -> Bool) -> String? {
            var out = ""
            guard let first = peek(), isDigit(first) else { return nil }
            while let c = peek() {
                if isDigit(c) {
                    out.unicodeScalars.append(c)
                    i += 1
                } else if c == "_", let next = peek(1), isDigit(next) {
                    i += 1
                } else {
                    break
                }
            }
            return out
        }

        mutating func parseNumber() -> Value? {
            let isDecimal: (Unicode.Scalar) -> Bool = { $0.isASCIIDigit }
            if peek() == "0", let base = peek(1), "xXoObB".unicodeScalars.contains(base) {
                i += 2
                if peek() == "_" { i += 1 }
                let radix: Int
                let valid: (Unicode.Scalar) -> Bool
                switch base {
                case "x", "X": radix = 16; valid = { $0.isASCIIHexDigit }
                case "o", "O": radix = 8; valid = { ("0"..."7").contains($0) }
                default: radix = 2; valid = { $0 == "0" || $0 == "1" }
                }
                guard let digits = digitPart(valid), endsCleanly(), let n = Int(digits, radix: radix) else { return nil }
                return .int(n)
            }
            let whole = digitPart(isDecimal)
            var text = whole ?? "0"
            var isFloat = false
            if peek() == "." {
                i += 1
                isFloat = true
                let fraction = digitPart(isDecimal)
                guard whole != nil || fraction != nil else { return nil }
                text += "." + (fraction ?? "0")
            } else if whole == nil {
                return nil
            }
            if let e = peek(), e == "e" || e == "E" {
                let save = i
                i += 1
                var sign = ""
                if let c = peek(), c == "+" || c == "-" { sign = String(c); i += 1 }
                if let exponent = digitPart(isDecimal) {
                    isFloat = true
                    text += "e" + sign + exponent
                } else {
                    i = save
                    return nil
                }
            }
            if let c = peek(), c == "j" || c == "J" { return nil }
            guard endsCleanly() else { return nil }
            if isFloat { return Double(text).map(Value.float) }
            // Python 3 rejects leading zeros in decimal integers except for zero itself.
            if text.count > 1, text.hasPrefix("0"), text.contains(where: { $0 != "0" }) { return nil }
            return Int(text).map(Value.int)
        }

        /// A number glued to letters (`1abc`, `56L`) is a syntax error in Python 3.
        func endsCleanly() -> Bool {
            guard let c = peek() else { return true }
            return !(c.properties.isXIDContinue || c == "_")
        }

        // MARK: Strings

        /// One or more adjacent string literals, concatenated as Python does.
        mutating func parseStrings() -> Value? {
            var text = ""
            var kind: Bool?  // true: bytes
            while true {
                let save = i
                var prefix = ""
                while let c = peek(), c.properties.isXIDStart || c.isASCIIDigit {
                    prefix.unicodeScalars.append(c)
                    i += 1
                }
                guard let quote = peek(), quote == "\"" || quote == "'" else {
                    i = save
                    break
                }
                let lower = prefix.lowercased()
                guard ["", "r", "u", "b", "br", "rb"].contains(lower) else { return nil }
                let isBytes = lower.contains("b")
                if let kind, kind != isBytes { return nil }
                kind = isBytes
                guard let piece = parseStringBody(raw: lower.contains("r"), bytes: isBytes) else { return nil }
                text += piece
                skipBlanks()
            }
            return kind == nil ? nil : .string(text)
        }

        mutating func parseStringBody(raw: Bool, bytes: Bool) -> String? {
            guard let quote = peek() else { return nil }
            let triple = peek(1) == quote && peek(2) == quote
            i += triple ? 3 : 1
            var out: [UInt8] = []
            func append(_ scalar: Unicode.Scalar) { out.append(contentsOf: Array(String(scalar).utf8)) }
            while true {
                guard let c = peek() else { return nil }
                if c == quote {
                    if !triple { i += 1; break }
                    if peek(1) == quote, peek(2) == quote { i += 3; break }
                }
                if c == "\n", !triple { return nil }
                if bytes, !c.isASCII { return nil }
                if c != "\\" { append(c); i += 1; continue }
                guard let e = peek(1) else { return nil }
                if raw { append(c); append(e); i += 2; continue }
                i += 2
                switch e {
                case "\n": break
                case "\\", "'", "\"": append(e)
                case "a": out.append(7)
                case "b": out.append(8)
                case "f": out.append(12)
                case "n": out.append(10)
                case "r": out.append(13)
                case "t": out.append(9)
                case "v": out.append(11)
                case "0"..."7":
                    var value = Int(e.value - 48)
                    for _ in 0..<2 {
                        guard let d = peek(), ("0"..."7").contains(d) else { break }
                        value = value * 8 + Int(d.value - 48)
                        i += 1
                    }
                    if bytes { out.append(UInt8(truncatingIfNeeded: value)) }
                    else if let scalar = Unicode.Scalar(UInt32(value)) { append(scalar) } else { return nil }
                case "x":
                    guard let value = hexDigits(2) else { return nil }
                    if bytes { out.append(UInt8(value)) }
                    else if let scalar = Unicode.Scalar(value) { append(scalar) } else { return nil }
                case "u", "U":
                    if bytes { append(c); append(e); continue }
                    guard let value = hexDigits(e == "u" ? 4 : 8), let scalar = Unicode.Scalar(value) else { return nil }
                    append(scalar)
                case "N":
                    if bytes { append(c); append(e); continue }
                    return nil
                default:
                    // Python keeps unknown escapes as written.
                    append(c)
                    append(e)
                }
            }
            return String(validating: out, as: UTF8.self)
        }

        mutating func hexDigits(_ count: Int) -> UInt32? {
            var value: UInt32 = 0
            for _ in 0..<count {
                guard let d = peek(), d.isASCIIHexDigit, let digit = UInt32(String(d), radix: 16) else { return nil }
                value = value * 16 + digit
                i += 1
            }
            return value
        }
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
    fileprivate var isASCIIHexDigit: Bool { isASCIIDigit || ("a"..."f").contains(self) || ("A"..."F").contains(self) }
}
