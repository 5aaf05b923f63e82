/// Which table an edit goes into: a key path (`["engine", "runtimes"]`), or
/// one element of an array of tables (`.element(0, of: ["registry"])`).
public struct TOMLTableAddress: Hashable, Sendable, ExpressibleByArrayLiteral, CustomStringConvertible {
    public var path: [String]
    /// Index into the array of tables at `path`; nil means the table at `path` itself.
    public var element: Int?

    public init(_ path: [String], element: Int? = nil) {
        self.path = path
        self.element = element
    }

    public init(arrayLiteral path: String...) { self.init(path) }

    /// The document's top level, before any `[header]`.
    public static let root = TOMLTableAddress([])

    public static func element(_ index: Int, of path: [String]) -> TOMLTableAddress {
        TOMLTableAddress(path, element: index)
    }

    /// `[engine.runtimes]`, `[[registry]] #2`, or `the top level`.
    public var description: String {
        if let element { return "[[\(TOMLWriter.dottedKey(path))]] #\(element)" }
        return path.isEmpty ? "the top level" : "[\(TOMLWriter.dottedKey(path))]"
    }
}

/// An edit the file's structure does not allow, e.g. setting a key inside a
/// table that the file defines as a string. Points at the conflicting definition when known.
public struct TOMLEditError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public var location: SourceLocation?

    public init(_ message: String, at location: SourceLocation? = nil) {
        self.message = message
        self.location = location
    }

    public var description: String { location.map { "\($0): \(message)" } ?? message }
}
