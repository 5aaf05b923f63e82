/// One TOML value plus where it was read from. `mark` is nil for values built
/// in code; equality ignores it, so a parsed value equals the one a caller wants.
public struct TOMLValue: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case string(String)
        case integer(Int64)
        case float(Double)
        case boolean(Bool)
        case dateTime(TOMLDateTime)
        case array([TOMLValue])
        case table(TOMLTable)

        /// Floats compare by bit pattern (NaN equals NaN, 0.0 differs from -0.0)
        /// because equality here means "writes the same TOML".
        public static func == (lhs: Kind, rhs: Kind) -> Bool {
            switch (lhs, rhs) {
            case let (.string(a), .string(b)): return a == b
            case let (.integer(a), .integer(b)): return a == b
            case let (.float(a), .float(b)): return a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN)
            case let (.boolean(a), .boolean(b)): return a == b
            case let (.dateTime(a), .dateTime(b)): return a == b
            case let (.array(a), .array(b)): return a == b
            case let (.table(a), .table(b)): return a == b
            default: return false
            }
        }
    }

    public var kind: Kind
    public var mark: SourceMark?

    public init(_ kind: Kind, mark: SourceMark? = nil) {
        self.kind = kind
        self.mark = mark
    }

    public static func == (lhs: TOMLValue, rhs: TOMLValue) -> Bool { lhs.kind == rhs.kind }

    public static func string(_ value: String) -> TOMLValue { TOMLValue(.string(value)) }
    public static func integer(_ value: Int64) -> TOMLValue { TOMLValue(.integer(value)) }
    public static func float(_ value: Double) -> TOMLValue { TOMLValue(.float(value)) }
    public static func boolean(_ value: Bool) -> TOMLValue { TOMLValue(.boolean(value)) }
    public static func dateTime(_ value: TOMLDateTime) -> TOMLValue { TOMLValue(.dateTime(value)) }
    public static func array(_ values: [TOMLValue]) -> TOMLValue { TOMLValue(.array(values)) }
    public static func table(_ table: TOMLTable) -> TOMLValue { TOMLValue(.table(table)) }

    public var string: String? { if case .string(let v) = kind { return v }; return nil }
    public var integer: Int64? { if case .integer(let v) = kind { return v }; return nil }
    public var float: Double? { if case .float(let v) = kind { return v }; return nil }
    public var boolean: Bool? { if case .boolean(let v) = kind { return v }; return nil }
    public var dateTime: TOMLDateTime? { if case .dateTime(let v) = kind { return v }; return nil }
    public var array: [TOMLValue]? { if case .array(let v) = kind { return v }; return nil }
    public var table: TOMLTable? { if case .table(let v) = kind { return v }; return nil }

    /// The TOML type's name, for messages such as "expected a string, found an integer".
    public var typeName: String {
        switch kind {
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .boolean: return "boolean"
        case .dateTime: return "date-time"
        case .array: return "array"
        case .table: return "table"
        }
    }

    /// The value at `path` below this one, walking tables only.
    public subscript(path: String...) -> TOMLValue? { value(at: path) }

    public func value<Path: Collection>(at path: Path) -> TOMLValue? where Path.Element == String {
        var current = self
        for key in path {
            guard let next = current.table?[key] else { return nil }
            current = next
        }
        return current
    }
}

extension TOMLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self.init(.string(value)) }
    public init(integerLiteral value: Int64) { self.init(.integer(value)) }
    public init(floatLiteral value: Double) { self.init(.float(value)) }
    public init(booleanLiteral value: Bool) { self.init(.boolean(value)) }
    public init(arrayLiteral elements: TOMLValue...) { self.init(.array(elements)) }
    public init(dictionaryLiteral elements: (String, TOMLValue)...) {
        self.init(.table(TOMLTable(elements)))
    }
}

extension TOMLValue: CustomStringConvertible {
    /// The value as canonical TOML text, e.g. `["a", "b"]`.
    public var description: String { TOMLWriter.text(of: self) }
}
