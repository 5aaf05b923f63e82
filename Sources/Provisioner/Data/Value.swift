/// A variable's value: what playbooks, inventories, facts and templates trade in.
/// JSON-shaped like Ansible's Python values; dictionaries keep insertion order.
public enum Value: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case list([Value])
    case dict(ValueDict)
    /// Data that is never rendered as a template, as Ansible 2.19's untrusted data: what a host
    /// returned (results, facts, registered values), what a template produced once stored in a
    /// variable, and YAML tagged `!unsafe`. In every other way it is its payload: it compares and
    /// hashes equal to it, and prints, serialises and reads (`string`, `list`, `dict`) as it.
    /// Make it with `Value.untrusted(_:)`, which keeps nested marks out of the payload.
    indirect case unsafe(Value)

    /// `value`, marked never to be rendered (its payload stripped of marks inside).
    public static func untrusted(_ value: Value) -> Value {
        switch value {
        case .unsafe, .null, .bool, .int, .float: return value
        case .string, .list, .dict: return .unsafe(value.plain)
        }
    }

    /// The value itself when it is marked unsafe; `self` otherwise (marks inside stay).
    public var peeled: Value { if case .unsafe(let v) = self { return v } else { return self } }

    /// Whether this value is marked unsafe as a whole.
    public var isUnsafe: Bool { if case .unsafe = self { return true } else { return false } }

    /// The value without any unsafe marks, at any depth: what modules and output see.
    public var plain: Value {
        switch self {
        case .unsafe(let v): return v.plain
        case .list(let items) where items.contains(where: \.hasUnsafeMarks): return .list(items.map(\.plain))
        case .dict(let d) where d.contains(where: { $0.value.hasUnsafeMarks }):
            return .dict(ValueDict(d.map { ($0.key, $0.value.plain) }))
        default: return self
        }
    }

    /// Whether an unsafe mark is anywhere inside.
    public var hasUnsafeMarks: Bool {
        switch self {
        case .unsafe: return true
        case .list(let items): return items.contains(where: \.hasUnsafeMarks)
        case .dict(let d): return d.contains { $0.value.hasUnsafeMarks }
        default: return false
        }
    }

    public var string: String? { if case .string(let s) = peeled { return s } else { return nil } }
    public var list: [Value]? { if case .list(let l) = peeled { return l } else { return nil } }
    public var dict: ValueDict? { if case .dict(let d) = peeled { return d } else { return nil } }
    public var isNull: Bool { if case .null = peeled { return true } else { return false } }

    /// The entries of a mapping, each keeping the mapping's own unsafe mark (`args: !unsafe {...}`).
    public var members: ValueDict? {
        switch self {
        case .dict(let d): return d
        case .unsafe(.dict(let d)): return ValueDict(d.map { ($0.key, Value.untrusted($0.value)) })
        default: return nil
        }
    }

    /// Member access for dictionaries (`nil` for anything else or a missing key).
    public subscript(key: String) -> Value? { dict?[key] }

    /// Python's name for the type, as Ansible's errors print it.
    public var typeName: String {
        switch self {
        case .null: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .list: return "list"
        case .dict: return "dict"
        case .unsafe(let v): return v.typeName
        }
    }
}

/// Equality and hashing ignore unsafe marks, as Python's `AnsibleUnsafeText == str`.
extension Value: Hashable {
    public static func == (a: Value, b: Value) -> Bool {
        switch (a, b) {
        case (.unsafe(let x), _): return x == b
        case (_, .unsafe(let y)): return a == y
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.float(let x), .float(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.list(let x), .list(let y)): return x == y
        case (.dict(let x), .dict(let y)): return x == y
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(1); hasher.combine(b)
        case .int(let i): hasher.combine(2); hasher.combine(i)
        case .float(let d): hasher.combine(3); hasher.combine(d)
        case .string(let s): hasher.combine(4); hasher.combine(s)
        case .list(let l): hasher.combine(5); hasher.combine(l)
        case .dict(let d): hasher.combine(6); hasher.combine(d)
        case .unsafe(let v): v.hash(into: &hasher)
        }
    }
}

/// An insertion-ordered string-keyed dictionary.
public struct ValueDict: Hashable, Sendable, Sequence {
    public private(set) var keys: [String] = []
    private var storage: [String: Value] = [:]

    public init() {}

    public init(_ pairs: [(String, Value)]) {
        for (k, v) in pairs { self[k] = v }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    public subscript(key: String) -> Value? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    public func makeIterator() -> AnyIterator<(key: String, value: Value)> {
        var index = 0
        return AnyIterator {
            guard index < keys.count else { return nil }
            defer { index += 1 }
            let key = keys[index]
            return (key, storage[key] ?? .null)
        }
    }

    /// Keys of `other` override ours; new keys are appended in `other`'s order.
    public func merging(_ other: ValueDict) -> ValueDict {
        var result = self
        for (k, v) in other { result[k] = v }
        return result
    }

    /// Ansible's `hash_behaviour = merge` / `combine(recursive=True)`.
    public func mergingRecursively(_ other: ValueDict) -> ValueDict {
        var result = self
        for (k, v) in other {
            if case .dict(let mine)? = result[k], case .dict(let theirs) = v {
                result[k] = .dict(mine.mergingRecursively(theirs))
            } else {
                result[k] = v
            }
        }
        return result
    }

    public static func == (a: ValueDict, b: ValueDict) -> Bool { a.storage == b.storage }
    public func hash(into hasher: inout Hasher) { hasher.combine(storage) }
}

extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
                 ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .float(value) }
    public init(arrayLiteral elements: Value...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, Value)...) { self = .dict(ValueDict(elements)) }
    public init(nilLiteral: ()) { self = .null }
}

extension Value {
    /// The plain value of a YAML node (positions dropped; keys as `json.dumps` writes them).
    public init(_ node: YAMLNode) {
        guard !node.isUnsafe else {
            var trusted = node
            trusted.isUnsafe = false
            self = .untrusted(Value(trusted))
            return
        }
        switch node.value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .float(let d): self = .float(d)
        case .string(let s): self = .string(s)
        case .sequence(let items): self = .list(items.map(Value.init))
        case .mapping(let pairs):
            var d = ValueDict()
            for pair in pairs { d[YAMLJSON.keyText(pair.key)] = Value(pair.value) }
            self = .dict(d)
        }
    }

    /// Compact JSON, as `to_json` and `--json` write it.
    public var json: String {
        var w = JSONWriter()
        write(to: &w)
        return w.text
    }

    public func write(to w: inout JSONWriter) {
        switch self {
        case .null: w.null()
        case .bool(let b): w.bool(b)
        case .int(let i): w.int(i)
        case .float(let d): w.double(d)
        case .string(let s): w.string(s)
        case .unsafe(let v): v.write(to: &w)
        case .list(let items):
            w.raw(UInt8(ascii: "["))
            for (n, item) in items.enumerated() {
                if n > 0 { w.raw(", ") }
                item.write(to: &w)
            }
            w.raw(UInt8(ascii: "]"))
        case .dict(let d):
            w.raw(UInt8(ascii: "{"))
            for (n, entry) in d.enumerated() {
                if n > 0 { w.raw(", ") }
                w.string(entry.key)
                w.raw(": ")
                entry.value.write(to: &w)
            }
            w.raw(UInt8(ascii: "}"))
        }
    }
}

extension ValueDict: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, Value)...) { self.init(elements) }
}
