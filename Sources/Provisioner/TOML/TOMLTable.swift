/// A TOML table: keys in document order. Equality ignores order, as TOML does.
public struct TOMLTable: Equatable, Sendable, ExpressibleByDictionaryLiteral {
    public private(set) var keys: [String] = []
    private var values: [String: TOMLValue] = [:]

    public init() {}

    /// Later duplicates replace earlier ones but keep the first position.
    public init<S: Sequence>(_ entries: S) where S.Element == (String, TOMLValue) {
        for (key, value) in entries { self[key] = value }
    }

    /// For the reader, which already knows the keys are unique and ordered.
    init(uniqueKeys keys: [String], values: [String: TOMLValue]) {
        self.keys = keys
        self.values = values
    }

    public init(dictionaryLiteral elements: (String, TOMLValue)...) { self.init(elements) }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// Setting nil removes the key.
    public subscript(key: String) -> TOMLValue? {
        get { values[key] }
        set {
            if let newValue {
                if values.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if values.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// The entries in document order.
    public var entries: [(key: String, value: TOMLValue)] {
        keys.compactMap { key in values[key].map { (key, $0) } }
    }

    public static func == (lhs: TOMLTable, rhs: TOMLTable) -> Bool { lhs.values == rhs.values }
}
