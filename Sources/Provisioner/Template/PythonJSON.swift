/// JSON as Python's `json` module writes and reads it, for `to_json`, `to_nice_json`
/// and `from_json` (ASCII-escaped by default, Python float spelling, NaN and Infinity).
enum PythonJSON {
    struct Options {
        var indent: Int?
        var sortKeys = false
        var ensureASCII = true
        var itemSeparator: String?
        var keySeparator = ": "
    }

    static func dumps(_ value: Value, _ options: Options = Options()) -> String {
        var out: [UInt8] = []
        let itemSeparator = options.itemSeparator ?? (options.indent == nil ? ", " : ",")
        write(value, options, Array(itemSeparator.utf8), level: 0, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func newline(_ options: Options, level: Int, to out: inout [UInt8]) {
        guard let indent = options.indent else { return }
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * level))
    }

    private static func write(_ value: Value, _ options: Options, _ separator: [UInt8], level: Int, to out: inout [UInt8]) {
        switch value {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .int(let i): out += Array(String(i).utf8)
        case .float(let d):
            let text = d.isNaN ? "NaN" : d.isInfinite ? (d < 0 ? "-Infinity" : "Infinity") : PythonFloat.repr(d)
            out += Array(text.utf8)
        case .string(let s): writeString(s, ensureASCII: options.ensureASCII, to: &out)
        case .unsafe(let v): write(v, options, separator, level: level, to: &out)
        case .list(let items):
            guard !items.isEmpty else { out += Array("[]".utf8); return }
            out.append(UInt8(ascii: "["))
            for (n, item) in items.enumerated() {
                if n > 0 { out += separator }
                newline(options, level: level + 1, to: &out)
                write(item, options, separator, level: level + 1, to: &out)
            }
            newline(options, level: level, to: &out)
            out.append(UInt8(ascii: "]"))
        case .dict(let d):
            guard !d.isEmpty else { out += Array("{}".utf8); return }
            out.append(UInt8(ascii: "{"))
            var keys = d.keys
            if options.sortKeys { keys.sort { PythonString.compare($0, $1) == .less } }
            for (n, key) in keys.enumerated() {
                if n > 0 { out += separator }
                newline(options, level: level + 1, to: &out)
                writeString(key, ensureASCII: options.ensureASCII, to: &out)
                out += Array(options.keySeparator.utf8)
                write(d[key] ?? .null, options, separator, level: level + 1, to: &out)
            }
            newline(options, level: level, to: &out)
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private static func writeString(_ s: String, ensureASCII: Bool, to out: inout [UInt8]) {
        func unicodeEscape(_ unit: UInt16) {
            out += Array("\\u".utf8)
            for shift in stride(from: 12, through: 0, by: -4) { out.append(hex[Int((unit >> UInt16(shift)) & 0xF)]) }
        }
        out.append(UInt8(ascii: "\""))
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += Array("\\\"".utf8)
            case "\\": out += Array("\\\\".utf8)
            case "\n": out += Array("\\n".utf8)
            case "\r": out += Array("\\r".utf8)
            case "\t": out += Array("\\t".utf8)
            case "\u{08}": out += Array("\\b".utf8)
            case "\u{0C}": out += Array("\\f".utf8)
            default:
                if c.value < 0x20 || (ensureASCII && c.value > 0x7E) {
                    if c.value >= 0x10000 {
                        for unit in String(c).utf16 { unicodeEscape(unit) }
                    } else {
                        unicodeEscape(UInt16(c.value))
                    }
                } else {
                    out += Array(String(c).utf8)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    // MARK: Reading

    static func parse(_ text: String) throws -> Value {
        var reader = Reader(bytes: Array(text.utf8))
        reader.skipSpace()
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.pos == reader.bytes.count else { throw reader.fail("Extra data") }
        return value
    }

    private struct Reader {
        let bytes: [UInt8]
        var pos = 0

        func fail(_ message: String) -> TemplateError {
            var line = 1, column = 1
            for b in bytes[..<min(pos, bytes.count)] {
                if b == UInt8(ascii: "\n") { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
            }
            return TemplateError("\(message): line \(line) column \(column) (char \(pos))")
        }

        mutating func skipSpace() {
            while pos < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[pos]) { pos += 1 }
        }

        func peek(_ word: String) -> Bool {
            let w = Array(word.utf8)
            return pos + w.count <= bytes.count && Array(bytes[pos..<(pos + w.count)]) == w
        }

        mutating func value(depth: Int) throws -> Value {
            guard depth < 500 else { throw fail("JSON nested too deeply") }
            guard pos < bytes.count else { throw fail("Expecting value") }
            switch bytes[pos] {
            case UInt8(ascii: "{"):
                pos += 1
                var d = ValueDict()
                skipSpace()
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .dict(d) }
                while true {
                    skipSpace()
                    guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else {
                        throw fail("Expecting property name enclosed in double quotes")
                    }
                    let key = try string()
                    skipSpace()
                    guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw fail("Expecting ':' delimiter") }
                    pos += 1
                    skipSpace()
                    d[key] = try value(depth: depth + 1)
                    skipSpace()
                    guard pos < bytes.count else { throw fail("Expecting ',' delimiter") }
                    if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .dict(d) }
                    guard bytes[pos] == UInt8(ascii: ",") else { throw fail("Expecting ',' delimiter") }
                    pos += 1
                }
            case UInt8(ascii: "["):
                pos += 1
                var items: [Value] = []
                skipSpace()
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .list(items) }
                while true {
                    skipSpace()
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard pos < bytes.count else { throw fail("Expecting ',' delimiter") }
                    if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .list(items) }
                    guard bytes[pos] == UInt8(ascii: ",") else { throw fail("Expecting ',' delimiter") }
                    pos += 1
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            default:
                for (word, value) in [("null", Value.null), ("true", .bool(true)), ("false", .bool(false)),
                                      ("NaN", .float(.nan)), ("Infinity", .float(.infinity)), ("-Infinity", .float(-.infinity))] where peek(word) {
                    pos += word.utf8.count
                    return value
                }
                return try number()
            }
        }

        mutating func number() throws -> Value {
            let start = pos
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            func digits() -> Int {
                let s = pos
                while pos < bytes.count, bytes[pos] >= UInt8(ascii: "0"), bytes[pos] <= UInt8(ascii: "9") { pos += 1 }
                return pos - s
            }
            let intStart = pos
            guard digits() > 0 else { pos = start; throw fail("Expecting value") }
            if bytes[intStart] == UInt8(ascii: "0"), pos - intStart > 1 { pos = intStart + 1 }
            var isFloat = false
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "."), pos + 1 < bytes.count,
               bytes[pos + 1] >= UInt8(ascii: "0"), bytes[pos + 1] <= UInt8(ascii: "9") {
                pos += 1
                _ = digits()
                isFloat = true
            }
            if pos < bytes.count, bytes[pos] | 0x20 == UInt8(ascii: "e") {
                let mark = pos
                pos += 1
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
                if digits() > 0 { isFloat = true } else { pos = mark }
            }
            let text = String(decoding: bytes[start..<pos], as: UTF8.self)
            if !isFloat, let i = Int(text) { return .int(i) }
            guard let d = Double(text) else { throw fail("Expecting value") }
            return .float(d)
        }

        mutating func string() throws -> String {
            pos += 1
            var out: [UInt8] = []
            while true {
                guard pos < bytes.count else { throw fail("Unterminated string starting at") }
                let c = bytes[pos]
                pos += 1
                switch c {
                case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
                case 0..<0x20: pos -= 1; throw fail("Invalid control character at")
                case UInt8(ascii: "\\"):
                    guard pos < bytes.count else { throw fail("Unterminated string starting at") }
                    let e = bytes[pos]
                    pos += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var unit = try hex4()
                        if (0xD800..<0xDC00).contains(unit), peek("\\u") {
                            let mark = pos
                            pos += 2
                            let low = try hex4()
                            if (0xDC00..<0xE000).contains(low) {
                                unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                pos = mark
                            }
                        }
                        out += Array(String(Unicode.Scalar(unit).map(Character.init) ?? "\u{FFFD}").utf8)
                    default:
                        pos -= 2
                        throw fail("Invalid \\escape")
                    }
                default:
                    out.append(c)
                }
            }
        }

        mutating func hex4() throws -> UInt32 {
            guard pos + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[pos..<(pos + 4)], as: UTF8.self), radix: 16) else {
                throw fail("Invalid \\uXXXX escape")
            }
            pos += 4
            return v
        }
    }
}
