/// A variable's value: what playbooks, inventories, facts and templates trade in.
/// JSON-shaped like Ansible's Python values; dictionaries keep insertion order.
public enum Value: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case list([Value])
    case dict(ValueDict)

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var list: [Value]? { if case .list(let l) = self { return l } else { return nil } }
    public var dict: ValueDict? { if case .dict(let d) = self { return d } else { return nil } }
    public var isNull: Bool { self == .null }

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
