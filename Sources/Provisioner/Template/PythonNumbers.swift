import Foundation

/// Python's `int()`, `float()` and `round()`, and Ansible's `bool` filter.
enum PythonNumbers {
    /// Jinja2's `int` filter without its default: `int(value, base)`, else `int(float(value))`.
    static func int(_ value: Value, base: Int = 10) -> Int? {
        switch value {
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return i
        case .float(let d): return truncate(d)
        case .string(let s):
            if let i = parseInt(s, base: base) { return i }
            return float(value).flatMap(truncate)
        default: return nil
        }
    }

    static func truncate(_ d: Double) -> Int? {
        guard d.isFinite, d > -9.3e18, d < 9.3e18 else { return nil }
        return Int(d.rounded(.towardZero))
    }

    /// Python's `int(text, base)`: surrounding whitespace, a sign, `_` between digits,
    /// and a `0x`/`0o`/`0b` prefix matching the base (any prefix with base 0).
    static func parseInt(_ text: String, base: Int) -> Int? {
        var s = Substring(PythonString.strip(text))
        var negative = false
        if let sign = s.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            s = s.dropFirst()
        }
        var radix = base
        let lower = s.lowercased()
        for (prefix, r) in [("0x", 16), ("0o", 8), ("0b", 2)] where lower.hasPrefix(prefix) && (base == r || base == 0) {
            radix = r
            s = s.dropFirst(2)
            if s.first == "_" { s = s.dropFirst() }
        }
        if radix == 0 {
            // Base 0 reads a decimal literal, which may not have leading zeros.
            radix = 10
            if s.count > 1, s.first == "0", s.contains(where: { $0 != "0" && $0 != "_" }) { return nil }
        }
        guard (2...36).contains(radix), !s.isEmpty, s.first != "_", s.last != "_", !s.contains("__") else { return nil }
        guard let magnitude = Int(s.replacingOccurrences(of: "_", with: ""), radix: radix) else { return nil }
        return negative ? -magnitude : magnitude
    }

    /// Python's `float(value)`; nil where Python raises.
    static func float(_ value: Value) -> Double? {
        switch value {
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return Double(i)
        case .float(let d): return d
        case .string(let s): return parseFloat(s)
        default: return nil
        }
    }

    static func parseFloat(_ text: String) -> Double? {
        let s = PythonString.strip(text)
        let lower = s.lowercased()
        var body = Substring(lower)
        var sign = 1.0
        if let first = body.first, first == "+" || first == "-" {
            sign = first == "-" ? -1 : 1
            body = body.dropFirst()
        }
        switch body {
        case "inf", "infinity": return sign * .infinity
        case "nan": return .nan
        default: break
        }
        // Digits, one optional point, an optional exponent; `_` only between digits.
        guard !body.isEmpty, body.allSatisfy({ "0123456789._e+-".contains($0) }),
              !body.hasPrefix("_"), !body.hasSuffix("_"), !body.contains("__"), !body.contains("._"), !body.contains("_.") else { return nil }
        return Double(String(body).replacingOccurrences(of: "_", with: "")).map { sign * $0 }
    }

    /// Ansible's `bool` filter: yes/on/true/1 and no/off/false/0 (any case), ints, else `value == 1`.
    static func ansibleBool(_ value: Value) -> Bool {
        let text: String
        switch value {
        case .string(let s): text = s.lowercased()
        case .bool(let b): return b
        case .int(let i): text = String(i)
        default: return value.pythonEquals(.int(1))
        }
        switch text {
        case "yes", "on", "true", "1": return true
        default: return false
        }
    }

    /// Jinja2's `round` filter: Python's `round()` (ties to even on the exact binary value), or ceil/floor.
    static func round(_ number: PythonNumber, precision: Int, method: String, arguments: TemplateArguments) throws -> Value {
        guard ["common", "ceil", "floor"].contains(method) else { throw arguments.error("method must be common, ceil or floor") }
        if method == "common", case .int(let i) = number {
            guard precision < 0 else { return .int(i) }
            let factor = Foundation.pow(10.0, Double(-precision))
            return .int(truncate((Double(i) / factor).rounded(.toNearestOrEven) * factor) ?? 0)
        }
        let d = number.double
        guard d.isFinite else { return .float(d) }
        let factor = Foundation.pow(10.0, Double(precision))
        switch method {
        case "ceil": return .float(Foundation.ceil(d * factor) / factor)
        case "floor": return .float(Foundation.floor(d * factor) / factor)
        default:
            if precision >= 0 {
                // printf rounds the exact binary value half-to-even, as Python's round() does.
                return .float(Double(String(format: "%.\(min(precision, 300))f", d)) ?? d)
            }
            return .float((d / Foundation.pow(10.0, Double(-precision))).rounded(.toNearestOrEven) * Foundation.pow(10.0, Double(-precision)))
        }
    }
}
