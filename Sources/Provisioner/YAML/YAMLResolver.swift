/// Scalar resolution as PyYAML's SafeLoader does it (YAML 1.1), because that is
/// what Ansible users' files mean: `yes`/`off` are booleans, `0755` is octal,
/// `1:30` is sexagesimal, `1e5` is a string (PyYAML wants `1.0e+5`), and
/// timestamps become the text Python's `str()` gives the datetime.
enum YAMLResolver {
    struct Failure: Error { var message: String }

    static let core = "tag:yaml.org,2002:"

    static func shortTag(_ tag: String) -> String {
        tag.hasPrefix(core) ? "!!" + tag.dropFirst(core.count) : tag
    }

    static func display(_ node: YAMLNode) -> String {
        switch node.value {
        case .string(let s): return "'\(s)'"
        case .int(let v): return "\(v)"
        case .float(let v): return "\(v)"
        case .bool(let v): return "\(v)"
        case .null: return "null"
        case .sequence, .mapping: return "(collection)"
        }
    }

    // MARK: Explicit tags

    /// Vault is not implemented: a ciphertext passed on as the value would be worse than stopping.
    static let vaultRefusal = "this value is encrypted with Ansible Vault (!vault), which provision cannot decrypt;"
        + " give the plain value instead (for example in a vars file kept out of version control, or with -e @FILE)"

    /// The value of a scalar carrying an explicit tag (`!!int "8080"`, `!!str 0755`, `! x`).
    static func construct(_ text: String, tag: String, plain: Bool) throws -> YAMLNode.Value {
        switch tag {
        case "!", core + "str", "!unsafe":
            // `!unsafe` is Ansible's tag for text never rendered (the node records it).
            return .string(text)
        case "!vault":
            throw Failure(message: vaultRefusal)
        case core + "null":
            return .null
        case core + "bool":
            switch text.lowercased() {
            case "yes", "true", "on": return .bool(true)
            case "no", "false", "off": return .bool(false)
            default: throw Failure(message: "'\(text)' is not a boolean (!!bool takes yes/no, true/false, on/off)")
            }
        case core + "int":
            guard let v = integer(Array(text.utf8), checked: false) else {
                throw Failure(message: "'\(text)' is not an integer (!!int)")
            }
            return v
        case core + "float":
            guard let v = float(Array(text.utf8), checked: false) else {
                throw Failure(message: "'\(text)' is not a number (!!float)")
            }
            return .float(v)
        case core + "timestamp":
            guard let v = timestamp(Array(text.utf8)) else {
                throw Failure(message: "'\(text)' is not a timestamp (!!timestamp)")
            }
            return .string(v)
        case core + "map", core + "seq":
            throw Failure(message: "the tag \(shortTag(tag)) cannot be used on a scalar")
        default:
            throw Failure(message: "unknown tag '\(shortTag(tag))' (Ansible reads only !!str, !!int, !!float, !!bool, !!null, !!timestamp, !!map, !!seq, !unsafe and !vault)")
        }
    }

    // MARK: Implicit resolution of plain scalars

    static func resolvePlain(_ text: String) -> YAMLNode.Value {
        var copy = text
        return copy.withUTF8 { resolvePlain(bytes: $0, text: text) }
    }

    private static func resolvePlain(bytes s: UnsafeBufferPointer<UInt8>, text: String) -> YAMLNode.Value {
        guard let first = s.first else { return .null }
        switch first {
        case UInt8(ascii: "~"):
            return s.count == 1 ? .null : .string(text)
        case UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "y"), UInt8(ascii: "Y"),
             UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"),
             UInt8(ascii: "o"), UInt8(ascii: "O"):
            guard s.count <= 5 else { return .string(text) }
            switch text {
            case "null", "Null", "NULL": return .null
            case "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON": return .bool(true)
            case "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF": return .bool(false)
            default: return .string(text)
            }
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."):
            let bytes = Array(s)
            if let v = integer(bytes, checked: true) { return v }
            if let v = float(bytes, checked: true) { return .float(v) }
            if first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"), let v = timestamp(bytes) { return .string(v) }
            return .string(text)
        default:
            return .string(text)
        }
    }

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    /// PyYAML's int: `[-+]?(0b[01_]+ | 0[0-7_]+ | 0 | [1-9][0-9_]* | 0x[0-9a-fA-F_]+ | [1-9][0-9_]*(:[0-5]?[0-9])+)`.
    /// `checked: false` is the lenient `!!int` constructor (no pattern, just the conversion).
    static func integer(_ s: [UInt8], checked: Bool) -> YAMLNode.Value? {
        var k = 0
        var negative = false
        if k < s.count, s[k] == UInt8(ascii: "-") || s[k] == UInt8(ascii: "+") {
            negative = s[k] == UInt8(ascii: "-")
            k += 1
        }
        let body = s[k...]
        guard let head = body.first else { return nil }
        func digits(_ from: Int, radix: Int, allowed: (UInt8) -> Bool) -> YAMLNode.Value? {
            var value = 0
            var any = false
            for c in s[from...] {
                if c == UInt8(ascii: "_") { continue }
                guard allowed(c) else { return nil }
                let d: Int
                if isDigit(c) { d = Int(c - 0x30) } else { d = Int((c | 0x20) - UInt8(ascii: "a")) + 10 }
                // Accumulate toward the sign so Int.min fits.
                let (m, o1) = value.multipliedReportingOverflow(by: radix)
                let (a, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
                if o1 || o2 { return .float((negative ? -1 : 1) * bigValue(s[from...], radix: radix)) }
                value = a
                any = true
            }
            guard any else { return nil }
            return .int(value)
        }
        if head == UInt8(ascii: "0") && body.count > 1 {
            let second = s[k + 1]
            if second == UInt8(ascii: "b") { return digits(k + 2, radix: 2) { $0 == 0x30 || $0 == 0x31 } }
            if second == UInt8(ascii: "x") { return digits(k + 2, radix: 16) { isDigit($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0 | 0x20) } }
            if checked || !body.contains(UInt8(ascii: ":")) {
                if let v = digits(k + 1, radix: 8, allowed: { $0 >= 0x30 && $0 <= 0x37 }) { return v }
                if body.allSatisfy({ $0 == UInt8(ascii: "0") || $0 == UInt8(ascii: "_") }) { return .int(0) }
                if checked { return nil }
            }
        }
        if body.contains(UInt8(ascii: ":")) {
            return sexagesimal(body, negative: negative, checked: checked).map { .int(Int($0)) }
        }
        if checked && head == UInt8(ascii: "0") { return body.count == 1 ? .int(0) : nil }
        guard isDigit(head) else { return nil }
        return digits(k, radix: 10, allowed: isDigit)
    }

    /// Exact-as-possible value for integers past 64 bits (PyYAML keeps big ints).
    static func bigValue(_ s: ArraySlice<UInt8>, radix: Int) -> Double {
        s.reduce(0.0) { acc, c in
            if c == UInt8(ascii: "_") { return acc }
            let d = isDigit(c) ? Double(c - 0x30) : Double((c | 0x20) - UInt8(ascii: "a") + 10)
            return acc * Double(radix) + d
        }
    }

    /// `190:20:30` = 190*3600 + 20*60 + 30; the last parts are `[0-5]?[0-9]`.
    static func sexagesimal(_ body: ArraySlice<UInt8>, negative: Bool, checked: Bool) -> Int64? {
        let parts = body.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        var value: Int64 = 0
        for (n, part) in parts.enumerated() {
            let digitsOnly = part.filter { $0 != UInt8(ascii: "_") }
            guard !digitsOnly.isEmpty, digitsOnly.allSatisfy(isDigit) else { return nil }
            if checked {
                if n == 0 {
                    guard let h = part.first, h != UInt8(ascii: "0"), isDigit(h) else { return nil }
                } else {
                    guard part.count <= 2, !part.contains(UInt8(ascii: "_")) else { return nil }
                    if part.count == 2, part[part.startIndex] > UInt8(ascii: "5") { return nil }
                }
            }
            guard let d = Int64(String(decoding: digitsOnly, as: UTF8.self)) else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 60)
            let (a, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { return nil }
            value = a
        }
        return negative ? -value : value
    }

    /// PyYAML's float: `[-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?`, `\.[0-9][0-9_]*(...)?`,
    /// sexagesimal `[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*`, `[-+]?\.inf`, `\.nan`.
    static func float(_ s: [UInt8], checked: Bool) -> Double? {
        var k = 0
        var sign = 1.0
        if k < s.count, s[k] == UInt8(ascii: "-") || s[k] == UInt8(ascii: "+") {
            if s[k] == UInt8(ascii: "-") { sign = -1 }
            k += 1
        }
        let body = s[k...]
        let lower = String(decoding: body, as: UTF8.self)
        if [".inf", ".Inf", ".INF"].contains(lower) || !checked && lower.lowercased() == ".inf" { return sign * .infinity }
        if [".nan", ".NaN", ".NAN"].contains(lower) || !checked && lower.lowercased() == ".nan" {
            return checked && k > 0 ? nil : .nan
        }
        if checked {
            guard matchesFloatPattern(body, signed: k > 0) else { return nil }
        }
        let cleaned = body.filter { $0 != UInt8(ascii: "_") }
        if cleaned.contains(UInt8(ascii: ":")) {
            var value = 0.0
            for part in cleaned.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false) {
                guard let d = Double(String(decoding: part, as: UTF8.self)) else { return nil }
                value = value * 60 + d
            }
            return sign * value
        }
        // Python's float() takes "1." and ".5"; Swift's Double() wants a digit on each side.
        var normalized: [UInt8] = []
        for (n, c) in cleaned.enumerated() {
            guard isDigit(c) || c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
                    || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") else { return nil }
            if c == UInt8(ascii: ".") && (n == 0 || !isDigit(cleaned[n - 1])) { normalized.append(0x30) }
            normalized.append(c)
            if c == UInt8(ascii: ".") && (n + 1 == cleaned.count || !isDigit(cleaned[n + 1])) { normalized.append(0x30) }
        }
        guard let v = Double(String(decoding: normalized, as: UTF8.self)) else { return nil }
        return sign * v
    }

    private static func matchesFloatPattern(_ s: ArraySlice<UInt8>, signed: Bool) -> Bool {
        var k = s.startIndex
        let end = s.endIndex
        func run(_ allowed: (UInt8) -> Bool) -> Int {
            let start = k
            while k < end, allowed(s[k]) { k += 1 }
            return k - start
        }
        let digitOrUnderscore: (UInt8) -> Bool = { isDigit($0) || $0 == UInt8(ascii: "_") }
        if k < end, s[k] == UInt8(ascii: ".") {
            // `\.[0-9][0-9_]*` takes no sign in PyYAML's pattern.
            if signed { return false }
            k += 1
            guard k < end, isDigit(s[k]) else { return false }
            _ = run(digitOrUnderscore)
            return exponentThenEnd(s, &k)
        }
        guard k < end, isDigit(s[k]) else { return false }
        _ = run(digitOrUnderscore)
        var sexagesimalParts = 0
        while k < end, s[k] == UInt8(ascii: ":") {
            k += 1
            let n = run(isDigit)
            guard n == 1 || n == 2 && s[k - 2] <= UInt8(ascii: "5") else { return false }
            sexagesimalParts += 1
        }
        guard k < end, s[k] == UInt8(ascii: ".") else { return false }
        k += 1
        _ = run(digitOrUnderscore)
        if sexagesimalParts > 0 { return k == end }
        return exponentThenEnd(s, &k)
    }

    private static func exponentThenEnd(_ s: ArraySlice<UInt8>, _ k: inout Int) -> Bool {
        let end = s.endIndex
        if k == end { return true }
        guard s[k] == UInt8(ascii: "e") || s[k] == UInt8(ascii: "E") else { return false }
        k += 1
        guard k < end, s[k] == UInt8(ascii: "-") || s[k] == UInt8(ascii: "+") else { return false }
        k += 1
        let start = k
        while k < end, isDigit(s[k]) { k += 1 }
        return k > start && k == end
    }

    /// PyYAML's timestamp, rendered as Python's `str()` of the date or datetime:
    /// `2001-12-14` or `2001-12-14 21:59:43.100000-05:00`.
    static func timestamp(_ s: [UInt8]) -> String? {
        var k = 0
        func number(min: Int, max: Int) -> Int? {
            let start = k
            while k < s.count, k - start < max, isDigit(s[k]) { k += 1 }
            guard k - start >= min else { return nil }
            return Int(String(decoding: s[start..<k], as: UTF8.self))
        }
        func expect(_ c: Character) -> Bool {
            guard k < s.count, s[k] == c.asciiValue else { return false }
            k += 1
            return true
        }
        guard let year = number(min: 4, max: 4), expect("-") else { return nil }
        let monthStart = k
        guard let month = number(min: 1, max: 2), expect("-") else { return nil }
        let dayStart = k
        guard let day = number(min: 1, max: 2) else { return nil }
        let shortForm = k - dayStart == 2 && dayStart - monthStart == 3
        guard (1...12).contains(month), (1...daysIn(month, year)).contains(day) else { return nil }
        let date = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
        if k == s.count { return shortForm ? date : nil }
        // Time part: [Tt] or spaces/tabs, then H?H:MM:SS(.fraction)?, then an optional zone.
        if s[k] == UInt8(ascii: "T") || s[k] == UInt8(ascii: "t") {
            k += 1
        } else {
            let start = k
            while k < s.count, s[k] == 0x20 || s[k] == 0x09 { k += 1 }
            guard k > start else { return nil }
        }
        guard let hour = number(min: 1, max: 2), expect(":"), let minute = number(min: 2, max: 2), expect(":"),
              let second = number(min: 2, max: 2), hour < 24, minute < 60, second < 60 else { return nil }
        var micro = 0
        if k < s.count, s[k] == UInt8(ascii: ".") {
            k += 1
            let start = k
            while k < s.count, isDigit(s[k]) { k += 1 }
            for n in 0..<6 {
                micro = micro * 10 + (start + n < k ? Int(s[start + n] - 0x30) : 0)
            }
        }
        var zone = ""
        while k < s.count, s[k] == 0x20 || s[k] == 0x09 { k += 1 }
        if k < s.count {
            if s[k] == UInt8(ascii: "Z") {
                k += 1
                zone = "+00:00"
            } else if s[k] == UInt8(ascii: "+") || s[k] == UInt8(ascii: "-") {
                let sign = s[k] == UInt8(ascii: "-") ? "-" : "+"
                k += 1
                guard let zh = number(min: 1, max: 2) else { return nil }
                var zm = 0
                if k < s.count, s[k] == UInt8(ascii: ":") {
                    k += 1
                    guard let m = number(min: 2, max: 2) else { return nil }
                    zm = m
                }
                guard zh < 24, zm < 60 else { return nil }
                zone = (zh == 0 && zm == 0 ? "+" : sign) + pad(zh, 2) + ":" + pad(zm, 2)
            } else {
                return nil
            }
        }
        guard k == s.count else { return nil }
        let fraction = micro == 0 ? "" : "." + pad(micro, 6)
        return date + " " + pad(hour, 2) + ":" + pad(minute, 2) + ":" + pad(second, 2) + fraction + zone
    }

    static func daysIn(_ month: Int, _ year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
