import Foundation

/// Python's arithmetic and comparison operators over `Value`, with Python's error messages.
enum TemplateOperators {
    static func apply(_ op: TemplateBinaryOperator, _ a: Value, _ b: Value, at offset: Int?) throws -> Value {
        if let x = a.pythonNumber, let y = b.pythonNumber {
            return try arithmetic(op, x, y, at: offset)
        }
        switch (op, a, b) {
        case (.add, .string(let x), .string(let y)): return .string(x + y)
        case (.add, .list(let x), .list(let y)): return .list(x + y)
        case (.add, .string, _), (.add, .list, _):
            throw TemplateError("can only concatenate \(a.typeName) (not \"\(b.typeName)\") to \(a.typeName)", at: offset)
        case (.multiply, .string, _), (.multiply, .list, _):
            return try repeated(a, b, at: offset)
        case (.multiply, _, .string), (.multiply, _, .list):
            return try repeated(b, a, at: offset)
        case (.modulo, .string(let format), _):
            return .string(try PythonFormat.percent(format, b, at: offset))
        default:
            throw TemplateError("unsupported operand type(s) for \(op.rawValue): '\(a.typeName)' and '\(b.typeName)'", at: offset)
        }
    }

    /// `'ab' * 3`, `[0] * 4`; the result is bounded so a typo cannot exhaust memory.
    static func repeated(_ sequence: Value, _ count: Value, at offset: Int?) throws -> Value {
        guard case .int(let n)? = count.pythonNumber else {
            throw TemplateError("can't multiply sequence by non-int of type '\(count.typeName)'", at: offset)
        }
        let times = max(n, 0)
        switch sequence {
        case .string(let s):
            guard s.utf8.count.multipliedReportingOverflow(by: times).partialValue <= 100_000_000 else {
                throw TemplateError("repeated string too large", at: offset)
            }
            return .string(String(repeating: s, count: times))
        case .list(let l):
            guard l.count.multipliedReportingOverflow(by: times).partialValue <= 10_000_000 else {
                throw TemplateError("repeated list too large", at: offset)
            }
            return .list(Array([[Value]](repeating: l, count: times).joined()))
        default:
            throw TemplateError("can't multiply sequence by non-int of type '\(count.typeName)'", at: offset)
        }
    }

    static func arithmetic(_ op: TemplateBinaryOperator, _ x: PythonNumber, _ y: PythonNumber, at offset: Int?) throws -> Value {
        if case .int(let a) = x, case .int(let b) = y {
            func checked(_ r: (partialValue: Int, overflow: Bool)) throws -> Value {
                guard !r.overflow else { throw TemplateError("integer overflow", at: offset) }
                return .int(r.partialValue)
            }
            switch op {
            case .add: return try checked(a.addingReportingOverflow(b))
            case .subtract: return try checked(a.subtractingReportingOverflow(b))
            case .multiply: return try checked(a.multipliedReportingOverflow(by: b))
            case .divide:
                guard b != 0 else { throw TemplateError("division by zero", at: offset) }
                return .float(Double(a) / Double(b))
            case .floorDivide, .modulo:
                guard b != 0 else { throw TemplateError("integer division or modulo by zero", at: offset) }
                guard !(a == .min && b == -1) else { throw TemplateError("integer overflow", at: offset) }
                // Python floors the quotient; the remainder takes the divisor's sign.
                var q = a / b, r = a % b
                if r != 0, (r < 0) != (b < 0) { q -= 1; r += b }
                return .int(op == .floorDivide ? q : r)
            case .power:
                if b < 0 { return .float(pow(Double(a), Double(b))) }
                func multiply(_ p: Int, _ q: Int) throws -> Int {
                    let r = p.multipliedReportingOverflow(by: q)
                    guard !r.overflow else { throw TemplateError("integer overflow", at: offset) }
                    return r.partialValue
                }
                var result = 1, base = a, e = b
                while e > 0 {
                    if e & 1 == 1 { result = try multiply(result, base) }
                    e >>= 1
                    if e > 0 { base = try multiply(base, base) }
                }
                return .int(result)
            }
        }
        let a = x.double, b = y.double
        switch op {
        case .add: return .float(a + b)
        case .subtract: return .float(a - b)
        case .multiply: return .float(a * b)
        case .divide:
            guard b != 0 else { throw TemplateError("float division by zero", at: offset) }
            return .float(a / b)
        case .floorDivide:
            guard b != 0 else { throw TemplateError("float floor division by zero", at: offset) }
            return .float(floor(a / b))
        case .modulo:
            guard b != 0 else { throw TemplateError("float modulo", at: offset) }
            var r = fmod(a, b)
            if r != 0, (r < 0) != (b < 0) { r += b }
            return .float(r)
        case .power:
            if a == 0, b < 0 { throw TemplateError("0.0 cannot be raised to a negative power", at: offset) }
            return .float(pow(a, b))
        }
    }

    static func compare(_ op: TemplateCompareOperator, _ a: Value, _ b: Value, at offset: Int?) throws -> Bool {
        switch op {
        case .equal: return a.pythonEquals(b)
        case .notEqual: return !a.pythonEquals(b)
        case .in: return try contains(b, a, at: offset)
        case .notIn: return try !contains(b, a, at: offset)
        default:
            guard let order = a.pythonCompare(b) else {
                throw TemplateError("'\(op.rawValue)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'", at: offset)
            }
            switch op {
            case .less: return order == .less
            case .lessOrEqual: return order != .greater
            case .greater: return order == .greater
            default: return order != .less
            }
        }
    }

    /// Python's `element in container`.
    static func contains(_ container: Value, _ element: Value, at offset: Int?) throws -> Bool {
        switch container {
        case .string(let s):
            guard case .string(let needle) = element else {
                throw TemplateError("'in <string>' requires string as left operand, not \(element.typeName)", at: offset)
            }
            return PythonString.find(needle, in: s) != nil
        case .list(let items): return items.contains { $0.pythonEquals(element) }
        case .dict(let d):
            switch element {
            case .string(let k): return d[k] != nil
            case .int: return d[element.pythonText] != nil
            default: return false
            }
        default:
            throw TemplateError("argument of type '\(container.typeName)' is not iterable", at: offset)
        }
    }
}
