/// Python's view of a `Value`: what Jinja2 (and so Ansible) does when a value is
/// tested for truth, printed into text, compared or sorted.
extension Value {
    /// Python truthiness: `None`, `False`, `0`, `0.0`, `''`, `[]` and `{}` are false.
    public var isTruthy: Bool {
        switch self {
        case .null: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .float(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .list(let l): return !l.isEmpty
        case .dict(let d): return !d.isEmpty
        case .unsafe(let v): return v.isTruthy
        }
    }

    /// Python's `str()`: what `{{ value }}` prints (`True`, `None`, `1.0`, `['a', 1]`, `{'k': 'v'}`).
    public var pythonText: String {
        switch self {
        case .string(let s): return s
        case .unsafe(let v): return v.pythonText
        default:
            var out = ""
            appendRepr(to: &out)
            return out
        }
    }

    /// Python's `repr()`: strings quoted, as they appear inside printed lists and dicts.
    public var pythonRepr: String {
        var out = ""
        appendRepr(to: &out)
        return out
    }

    func appendRepr(to out: inout String) {
        switch self {
        case .null: out += "None"
        case .bool(let b): out += b ? "True" : "False"
        case .int(let i): out += String(i)
        case .float(let d): out += PythonFloat.repr(d)
        case .string(let s): PythonString.appendRepr(of: s, to: &out)
        case .unsafe(let v): v.appendRepr(to: &out)
        case .list(let items):
            out += "["
            for (n, item) in items.enumerated() {
                if n > 0 { out += ", " }
                item.appendRepr(to: &out)
            }
            out += "]"
        case .dict(let d):
            out += "{"
            var first = true
            for (key, value) in d {
                if !first { out += ", " }
                first = false
                PythonString.appendRepr(of: key, to: &out)
                out += ": "
                value.appendRepr(to: &out)
            }
            out += "}"
        }
    }

    /// The number a bool, int or float stands for in arithmetic (Python's `True + 1 == 2`).
    var pythonNumber: PythonNumber? {
        switch self {
        case .bool(let b): return .int(b ? 1 : 0)
        case .int(let i): return .int(i)
        case .float(let d): return .float(d)
        default: return nil
        }
    }

    /// Python `==`: `1 == 1.0 == True`, dicts equal regardless of key order.
    func pythonEquals(_ other: Value) -> Bool {
        switch (self, other) {
        case (.string(let a), .string(let b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.null, .null): return true
        case (.list(let a), .list(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.pythonEquals($1) }
        case (.dict(let a), .dict(let b)):
            guard a.count == b.count else { return false }
            for (key, value) in a {
                guard let theirs = b[key], value.pythonEquals(theirs) else { return false }
            }
            return true
        default:
            if let x = pythonNumber, let y = other.pythonNumber { return x == y }
            return false
        }
    }

    /// Python `<` ordering; nil where Python raises `TypeError` (`'<' not supported ...`).
    func pythonCompare(_ other: Value) -> PythonOrder? {
        switch (self, other) {
        case (.string(let a), .string(let b)): return PythonString.compare(a, b)
        case (.list(let a), .list(let b)):
            for (x, y) in zip(a, b) where !x.pythonEquals(y) { return x.pythonCompare(y) }
            return a.count < b.count ? .less : a.count == b.count ? .same : .greater
        default:
            guard let x = pythonNumber, let y = other.pythonNumber else { return nil }
            return x.compare(y)
        }
    }
}

/// The outcome of a Python ordering comparison.
enum PythonOrder { case less, same, greater }

/// An int or a float as Python arithmetic sees it.
enum PythonNumber: Equatable {
    case int(Int)
    case float(Double)

    var double: Double {
        switch self {
        case .int(let i): return Double(i)
        case .float(let d): return d
        }
    }

    var value: Value {
        switch self {
        case .int(let i): return .int(i)
        case .float(let d): return .float(d)
        }
    }

    static func == (a: PythonNumber, b: PythonNumber) -> Bool {
        if case .int(let x) = a, case .int(let y) = b { return x == y }
        return a.double == b.double
    }

    func compare(_ other: PythonNumber) -> PythonOrder? {
        if case .int(let x) = self, case .int(let y) = other { return x < y ? .less : x == y ? .same : .greater }
        let x = double, y = other.double
        if x.isNaN || y.isNaN { return nil }
        return x < y ? .less : x == y ? .same : .greater
    }
}

/// A key that hashes and compares as Python does, for `unique`, `union` and friends.
struct PythonKey: Hashable {
    var value: Value

    static func == (a: PythonKey, b: PythonKey) -> Bool { a.value.pythonEquals(b.value) }

    func hash(into hasher: inout Hasher) {
        switch value {
        case .null: hasher.combine(0)
        case .bool, .int, .float:
            // Equal numbers must hash alike: 1, 1.0 and True.
            hasher.combine(value.pythonNumber?.double ?? 0)
        case .string(let s): hasher.combine(s)
        case .list(let l): hasher.combine(1); hasher.combine(l.count)
        case .dict(let d): hasher.combine(2); hasher.combine(d.count)
        case .unsafe(let v): PythonKey(value: v).hash(into: &hasher)
        }
    }
}

enum PythonString {
    /// Compares by code point, as Python does (Swift's `<` uses canonical equivalence).
    static func compare(_ a: String, _ b: String) -> PythonOrder {
        var i = a.unicodeScalars.makeIterator(), j = b.unicodeScalars.makeIterator()
        while true {
            switch (i.next(), j.next()) {
            case (nil, nil): return .same
            case (nil, _): return .less
            case (_, nil): return .greater
            case let (x?, y?):
                if x.value != y.value { return x.value < y.value ? .less : .greater }
            }
        }
    }

    /// Python's `repr(str)`: single quotes unless the text holds a `'` and no `"`.
    static func appendRepr(of s: String, to out: inout String) {
        let quote: Unicode.Scalar = s.utf8.contains(UInt8(ascii: "'")) && !s.utf8.contains(UInt8(ascii: "\"")) ? "\"" : "'"
        var scalars = String.UnicodeScalarView()
        scalars.append(quote)
        for c in s.unicodeScalars {
            switch c {
            case quote, "\\": scalars.append("\\"); scalars.append(c)
            case "\n": scalars.append(contentsOf: "\\n".unicodeScalars)
            case "\r": scalars.append(contentsOf: "\\r".unicodeScalars)
            case "\t": scalars.append(contentsOf: "\\t".unicodeScalars)
            default:
                if isPrintable(c) {
                    scalars.append(c)
                } else {
                    let hex = String(c.value, radix: 16)
                    let (prefix, width) = c.value < 0x100 ? ("\\x", 2) : c.value < 0x10000 ? ("\\u", 4) : ("\\U", 8)
                    scalars.append(contentsOf: (prefix + String(repeating: "0", count: width - hex.count) + hex).unicodeScalars)
                }
            }
        }
        scalars.append(quote)
        out += String(scalars)
    }

    /// Python's `str.isprintable()` for one character.
    static func isPrintable(_ c: Unicode.Scalar) -> Bool {
        if c.value < 0x7F { return c.value >= 0x20 }
        switch c.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned,
             .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }

    /// Python's `str.isspace()` for one character (as `strip()` and `split()` use it).
    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0: return true
        case 0..<0x80: return false
        default: return c.properties.isWhitespace
        }
    }
}

enum PythonFloat {
    /// Python's `repr(float)`: the shortest text that reads back the same, in Python's layout
    /// (`1.0`, `0.0001`, `1e-05`, `1e+16`, `inf`, `nan`).
    static func repr(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        // Swift's description is also shortest-round-trip; only its layout differs.
        let text = d.magnitude.description
        var digits = ""
        var pointAt: Int?
        var exponent = 0
        var inExponent = false
        var exponentText = ""
        for c in text {
            if inExponent { exponentText.append(c); continue }
            switch c {
            case ".": pointAt = digits.count
            case "e", "E": inExponent = true
            default: digits.append(c)
            }
        }
        exponent = Int(exponentText) ?? 0
        // Value = 0.DIGITS x 10^decimalPoint once leading zeros are dropped.
        var decimalPoint = (pointAt ?? digits.count) + exponent
        while digits.first == "0", digits.count > 1 {
            digits.removeFirst()
            decimalPoint -= 1
        }
        while digits.last == "0", digits.count > 1 { digits.removeLast() }
        let sign = d.sign == .minus ? "-" : ""
        if digits == "0" { return sign + "0.0" }
        if decimalPoint < -3 || decimalPoint > 16 {
            let e = decimalPoint - 1
            let mantissa = digits.count > 1 ? "\(digits.first ?? "0")." + digits.dropFirst() : digits
            let exp = abs(e) < 10 ? "0\(abs(e))" : "\(abs(e))"
            return sign + mantissa + "e" + (e < 0 ? "-" : "+") + exp
        }
        if decimalPoint <= 0 { return sign + "0." + String(repeating: "0", count: -decimalPoint) + digits }
        if decimalPoint >= digits.count { return sign + digits + String(repeating: "0", count: decimalPoint - digits.count) + ".0" }
        let cut = digits.index(digits.startIndex, offsetBy: decimalPoint)
        return sign + digits[..<cut] + "." + digits[cut...]
    }
}
