/// A recursive-descent YAML reader over UTF-8 bytes. It builds nodes directly
/// (no event stream): structure follows the YAML 1.2 spec, scalars resolve as
/// PyYAML's YAML 1.1 resolver does (see YAMLResolver).
///
/// Conventions: `i` is the byte offset; every block-level parse ends positioned
/// at the first content character of the next content line (blank and comment
/// lines skipped) or at the end, so callers decide by that line's column.
final class YAMLParser {
    let b: [UInt8]
    let file: String
    var i = 0
    var line = 1
    var lineStart = 0

    var anchors: [String: YAMLNode] = [:]
    var tagHandles: [String: String] = YAMLParser.defaultTagHandles
    var depth = 0
    var aliasExpansion = 0

    static let defaultTagHandles = ["!": "!", "!!": "tag:yaml.org,2002:"]
    /// Deeper documents are refused rather than risking the stack.
    static let maxDepth = 1000
    /// Nodes that aliases may add by expansion, per stream ("billion laughs" guard).
    static let maxAliasExpansion = 1_000_000

    init(_ raw: [UInt8], file: String) throws {
        self.file = file
        b = try YAMLInput.prepare(raw, file: file)
    }

    // MARK: Positions and errors

    struct Cursor {
        var i: Int, line: Int, lineStart: Int
    }

    var cursor: Cursor {
        get { Cursor(i: i, line: line, lineStart: lineStart) }
        set { i = newValue.i; line = newValue.line; lineStart = newValue.lineStart }
    }

    var column: Int { i - lineStart }
    var mark: SourceMark { SourceMark(line: line, column: column + 1) }

    func error(_ message: String) -> ParseError {
        ParseError(message, at: SourceLocation(file: file, mark: mark))
    }

    func error(_ message: String, at m: SourceMark) -> ParseError {
        ParseError(message, at: SourceLocation(file: file, mark: m))
    }

    // MARK: Character classes (0 is the end sentinel)

    @inline(__always) func at(_ k: Int) -> UInt8 { b[i + k] }
    @inline(__always) var c: UInt8 { b[i] }
    var atEnd: Bool { b[i] == 0 }

    @inline(__always) static func isWhite(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }
    @inline(__always) static func isBlankOrEnd(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0 }
    @inline(__always) static func isBreakOrEnd(_ c: UInt8) -> Bool { c == 0x0A || c == 0 }
    @inline(__always) static func isFlowIndicator(_ c: UInt8) -> Bool {
        c == UInt8(ascii: ",") || c == UInt8(ascii: "[") || c == UInt8(ascii: "]") || c == UInt8(ascii: "{") || c == UInt8(ascii: "}")
    }

    /// Consumes a line feed at `i`.
    @inline(__always) func newline() {
        i += 1
        line += 1
        lineStart = i
    }

    func skipWhite() {
        while YAMLParser.isWhite(c) { i += 1 }
    }

    /// Whether `#` here starts a comment: YAML wants whitespace (or a line start) before it.
    var atComment: Bool {
        c == UInt8(ascii: "#") && (i == lineStart || YAMLParser.isBlankOrEnd(b[i - 1]))
    }

    /// `---` or `...` at column 0 followed by a blank.
    func atDocumentMarker(_ ch: UInt8) -> Bool {
        i == lineStart && c == ch && at(1) == ch && at(2) == ch && YAMLParser.isBlankOrEnd(at(3))
    }

    var atAnyDocumentMarker: Bool {
        atDocumentMarker(UInt8(ascii: "-")) || atDocumentMarker(UInt8(ascii: "."))
    }

    /// Leading spaces of the current line; tabs never count as indentation.
    var lineIndent: Int {
        var k = lineStart
        while b[k] == 0x20 { k += 1 }
        return k - lineStart
    }

    /// Skips whitespace, comments and line breaks until content or the end.
    func skipToContent() {
        while true {
            skipWhite()
            if atComment { while !YAMLParser.isBreakOrEnd(c) { i += 1 } }
            if c == 0x0A { newline(); continue }
            return
        }
    }

    /// Requires the rest of the line to be blank or a comment, then moves to the next content line.
    func finishLine() throws {
        skipWhite()
        if c == UInt8(ascii: "#") && i > lineStart && !YAMLParser.isWhite(b[i - 1]) {
            throw error("a comment needs a space before '#'")
        }
        if atComment { while !YAMLParser.isBreakOrEnd(c) { i += 1 } }
        guard YAMLParser.isBreakOrEnd(c) else {
            if c == UInt8(ascii: ":") {
                throw error("unexpected ':' (a mapping value is not allowed here; quote the scalar if ':' belongs to it)")
            }
            throw error("unexpected text after the value; expected the end of the line")
        }
        skipToContent()
    }

    // MARK: Stream and documents

    func parseStream() throws -> [YAMLNode] {
        var documents: [YAMLNode] = []
        var directivesAllowed = true
        while true {
            skipDocumentPrefix()
            var sawDirective = false
            tagHandles = YAMLParser.defaultTagHandles
            var sawYAMLDirective = false
            while i == lineStart && c == UInt8(ascii: "%") {
                guard directivesAllowed else {
                    throw error("a directive must follow '...' (end the previous document first)")
                }
                try parseDirective(&sawYAMLDirective)
                sawDirective = true
                skipDocumentPrefix()
            }
            let explicitStart = atDocumentMarker(UInt8(ascii: "-"))
            if !explicitStart {
                if sawDirective { throw error("expected '---' after the directives") }
                if atEnd { break }
                if atDocumentMarker(UInt8(ascii: ".")) {
                    i += 3
                    try finishLine()
                    directivesAllowed = true
                    continue
                }
            }
            anchors = [:]
            let root: YAMLNode
            if explicitStart {
                let start = mark
                i += 3
                root = try parseBlockNode(parent: -1, blockOut: false, compact: false) ?? empty(nil, start)
            } else {
                root = try parseLineStartNode(parent: -1, blockOut: false, props: nil) ?? empty(nil, mark)
            }
            documents.append(root)
            if atDocumentMarker(UInt8(ascii: ".")) {
                i += 3
                try finishLine()
                directivesAllowed = true
            } else if atDocumentMarker(UInt8(ascii: "-")) || atEnd {
                directivesAllowed = false
            } else {
                throw column == 0
                    ? error("expected the end of the document (or '---'), found more content at column 1")
                    : indentationError("bad indentation: this line does not belong to any collection above it")
            }
        }
        return documents
    }

    /// Blank lines, comments and byte-order marks before a document.
    func skipDocumentPrefix() {
        while true {
            skipToContent()
            if c == 0xEF && at(1) == 0xBB && at(2) == 0xBF { i += 3; continue }
            return
        }
    }

    func parseDirective(_ sawYAML: inout Bool) throws {
        let start = i
        i += 1
        while !YAMLParser.isBlankOrEnd(c) { i += 1 }
        let name = String(decoding: b[(start + 1)..<i], as: UTF8.self)
        var parameters: [String] = []
        while true {
            skipWhite()
            if YAMLParser.isBreakOrEnd(c) || atComment { break }
            let p = i
            while !YAMLParser.isBlankOrEnd(c) { i += 1 }
            parameters.append(String(decoding: b[p..<i], as: UTF8.self))
        }
        switch name {
        case "YAML":
            guard !sawYAML else { throw error("duplicate %YAML directive") }
            sawYAML = true
            guard parameters.count == 1, let v = parameters.first, v.hasPrefix("1."),
                  v.dropFirst(2).allSatisfy(\.isNumber), v.count > 2 else {
                throw error("%YAML expects a version 1.x")
            }
        case "TAG":
            guard parameters.count == 2 else { throw error("%TAG expects a handle and a prefix") }
            tagHandles[parameters[0]] = parameters[1]
        default:
            break // reserved directives are ignored, as the spec asks
        }
        try finishLine()
    }

    // MARK: Properties (anchor and tag)

    struct Properties {
        var anchor: String?
        var tag: String?
        var mark: SourceMark
    }

    /// Reads `&anchor` and `!tag` in either order; nil when there are none.
    func parseProperties() throws -> Properties? {
        guard c == UInt8(ascii: "&") || c == UInt8(ascii: "!") else { return nil }
        var props = Properties(mark: mark)
        while c == UInt8(ascii: "&") || c == UInt8(ascii: "!") {
            if c == UInt8(ascii: "&") {
                guard props.anchor == nil else { throw error("a node can have only one anchor") }
                i += 1
                let start = i
                while !YAMLParser.isBlankOrEnd(c) && !YAMLParser.isFlowIndicator(c) { i += 1 }
                guard i > start else { throw error("expected an anchor name after '&'") }
                props.anchor = String(decoding: b[start..<i], as: UTF8.self)
            } else {
                guard props.tag == nil else { throw error("a node can have only one tag") }
                props.tag = try parseTag()
            }
            let before = i
            skipWhite()
            if i == before && !YAMLParser.isBreakOrEnd(c) && !YAMLParser.isFlowIndicator(c) {
                throw error("expected a space after the anchor or tag")
            }
        }
        return props
    }

    func parseTag() throws -> String {
        let tagMark = mark
        i += 1
        if c == UInt8(ascii: "<") {
            i += 1
            let start = i
            while c != UInt8(ascii: ">") && !YAMLParser.isBlankOrEnd(c) { i += 1 }
            guard c == UInt8(ascii: ">"), i > start else { throw error("expected '>' to close the verbatim tag") }
            let tag = String(decoding: b[start..<i], as: UTF8.self)
            i += 1
            return tag
        }
        // Handle: "!", "!!" or "!name!"; the rest is the suffix.
        var handleEnd = i
        while YAMLParser.isWordChar(b[handleEnd]) { handleEnd += 1 }
        var handle = "!"
        if b[handleEnd] == UInt8(ascii: "!") {
            handle = "!" + String(decoding: b[i..<handleEnd], as: UTF8.self) + "!"
            i = handleEnd + 1
        }
        let start = i
        while YAMLParser.isTagChar(c) { i += 1 }
        let suffix = try percentDecoded(b[start..<i])
        if handle == "!" && suffix.isEmpty { return "!" }
        guard let prefix = tagHandles[handle] else {
            throw error("undefined tag handle '\(handle)' (declare it with %TAG)", at: tagMark)
        }
        if suffix.isEmpty { throw error("expected a tag suffix after '\(handle)'", at: tagMark) }
        return prefix + suffix
    }

    func percentDecoded(_ bytes: ArraySlice<UInt8>) throws -> String {
        guard bytes.contains(UInt8(ascii: "%")) else { return String(decoding: bytes, as: UTF8.self) }
        var out: [UInt8] = []
        var k = bytes.startIndex
        while k < bytes.endIndex {
            if bytes[k] == UInt8(ascii: "%") {
                guard k + 2 < bytes.endIndex, let h = YAMLParser.hexValue(bytes[k + 1]), let l = YAMLParser.hexValue(bytes[k + 2]) else {
                    throw error("invalid %-escape in tag")
                }
                out.append(UInt8(h << 4 | l))
                k += 3
            } else {
                out.append(bytes[k])
                k += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isWordChar(_ c: UInt8) -> Bool {
        (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) || c == UInt8(ascii: "-")
    }

    static func isTagChar(_ c: UInt8) -> Bool {
        if isWordChar(c) || c >= 0x80 { return true }
        switch c {
        case UInt8(ascii: "#"), UInt8(ascii: ";"), UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: ":"),
             UInt8(ascii: "@"), UInt8(ascii: "&"), UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "$"),
             UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: "*"), UInt8(ascii: "'"),
             UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "%"):
            return true
        default:
            return false
        }
    }

    static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(c - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    // MARK: Nesting guard

    func enter() throws {
        depth += 1
        if depth > YAMLParser.maxDepth {
            throw error("nesting deeper than \(YAMLParser.maxDepth) levels; refusing the document")
        }
    }

    func leave() { depth -= 1 }
}
