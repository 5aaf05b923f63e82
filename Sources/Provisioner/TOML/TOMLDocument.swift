/// A parsed TOML file: its root table, plus (internally) where each statement
/// sits in the source so the editor can change one without touching the rest.
public struct TOMLDocument: Sendable {
    public let root: TOMLTable
    let statements: [TOMLStatement]

    init(root: TOMLTable, statements: [TOMLStatement]) {
        self.root = root
        self.statements = statements
    }

    /// Reads TOML 1.0; errors are `ParseError`s that point at `file:line:column`.
    public init(parsing bytes: [UInt8], file: String = "<toml>") throws {
        self = try TOMLReader.read(bytes, file: file)
    }

    public init(parsing text: String, file: String = "<toml>") throws {
        try self.init(parsing: Array(text.utf8), file: file)
    }

    /// The value at a key path (`["storage", "options", "mountopt"]`), walking tables only.
    public func value(at path: [String]) -> TOMLValue? {
        guard let first = path.first else { return .table(root) }
        return root[first]?.value(at: path.dropFirst())
    }

    public subscript(path: String...) -> TOMLValue? { value(at: path) }
}
