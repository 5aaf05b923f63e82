/// A position in a source file, 1-based, as editors show it.
public struct SourceMark: Hashable, Sendable {
    public var line: Int32
    public var column: Int32

    public init(line: Int, column: Int) {
        self.line = Int32(clamping: line)
        self.column = Int32(clamping: column)
    }
}

/// A file plus a position: what every user-facing error points at.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var mark: SourceMark

    public init(file: String, mark: SourceMark) {
        self.file = file
        self.mark = mark
    }

    public init(file: String, line: Int, column: Int) {
        self.init(file: file, mark: SourceMark(line: line, column: column))
    }

    public var line: Int { Int(mark.line) }
    public var column: Int { Int(mark.column) }
    public var description: String { "\(file):\(mark.line):\(mark.column)" }
}

/// A syntax error in a YAML or TOML source: `FILE:LINE:COL: message`.
public struct ParseError: Error, Equatable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    public init(_ message: String, at location: SourceLocation) {
        self.message = message
        self.location = location
    }

    public var description: String { "\(location): \(message)" }
}
