/// A template that cannot be parsed or rendered: bad syntax, an undefined variable,
/// an unknown filter, a type error. Never a crash.
public struct TemplateError: Error, CustomStringConvertible, Equatable {
    public var message: String
    /// The variable whose absence caused the error (`'x' is undefined`), so callers can name it.
    public var undefinedVariable: String?
    /// The template's name (a template file), when it has one.
    public var template: String?
    /// 1-based position inside the template text, when known.
    public var line: Int?
    public var column: Int?
    /// Byte offset into the (newline-normalised) template text; turned into line and column at the API edge.
    var offset: Int?
    /// The variable whose template failed, once the message names it.
    var inVariable: String?

    init(_ message: String, undefinedVariable: String? = nil, at offset: Int? = nil) {
        self.message = message
        self.undefinedVariable = undefinedVariable
        self.offset = offset
    }

    public var description: String {
        guard let line, let column else { return template.map { "\($0): \(message)" } ?? message }
        if let template { return "\(template):\(line):\(column): \(message)" }
        return "\(message) (line \(line), column \(column))"
    }

    public static func == (a: TemplateError, b: TemplateError) -> Bool {
        a.message == b.message && a.undefinedVariable == b.undefinedVariable && a.template == b.template
            && a.line == b.line && a.column == b.column
    }

    /// Fills in line and column from `offset` within `source` (UTF-8), once, at the outermost template.
    func located(in source: [UInt8], name: String?) -> TemplateError {
        var e = self
        if e.template == nil { e.template = name }
        guard e.line == nil, let offset = e.offset else { return e }
        var line = 1, lineStart = 0
        let end = min(offset, source.count)
        for i in 0..<end where source[i] == UInt8(ascii: "\n") {
            line += 1
            lineStart = i + 1
        }
        // Columns count characters (code points), not bytes, as editors do.
        var column = 1
        for i in lineStart..<end where source[i] & 0xC0 != 0x80 { column += 1 }
        e.line = line
        e.column = column
        return e
    }
}
