/// JSON as Python's `json` module reads and writes it, for modules that send or receive JSON
/// (`uri`'s `body_format: json` and its `json` result).
extension Value {
    /// `json.loads`.
    public static func parsingJSON(_ text: String) throws -> Value { try PythonJSON.parse(text) }

    /// `json.dumps` with its default separators.
    public var pythonJSON: String { PythonJSON.dumps(self) }
}
