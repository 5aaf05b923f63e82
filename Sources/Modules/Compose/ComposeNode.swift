import Foundation
import Provisioner

/// A value of a compose document that remembers where it was written, so an error names the file, line and
/// key path. Read with the compose specification's YAML 1.2 scalars, not PyYAML's 1.1 ones: `22:22` is the
/// text "22:22" (not the sexagesimal 1342), `yes` is a word, `0755` is 755 — as `docker compose` reads them.
struct ComposeNode: Sendable {
    enum Kind: Sendable {
        case scalar(Value)
        case list([ComposeNode])
        case map([(key: String, value: ComposeNode)])
    }

    var kind: Kind
    var location: SourceLocation?

    init(_ kind: Kind, at location: SourceLocation? = nil) {
        self.kind = kind
        self.location = location
    }

    static func scalar(_ value: Value, at location: SourceLocation? = nil) -> ComposeNode { ComposeNode(.scalar(value), at: location) }

    var scalar: Value? { if case .scalar(let v) = kind { return v } else { return nil } }
    var items: [ComposeNode]? { if case .list(let l) = kind { return l } else { return nil } }
    var pairs: [(key: String, value: ComposeNode)]? { if case .map(let p) = kind { return p } else { return nil } }
    var isNull: Bool { scalar == .null }

    subscript(key: String) -> ComposeNode? { pairs?.last { $0.key == key }?.value }

    /// A scalar as compose uses it where text is expected: numbers and booleans in their written form.
    var text: String? {
        switch scalar {
        case .string(let s)?: return s
        case .int(let i)?: return String(i)
        case .float(let d)?: return ComposeNode.format(d)
        case .bool(let b)?: return b ? "true" : "false"
        default: return nil
        }
    }

    static func format(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : String(d)
    }

    /// What the node is, for messages.
    var typeName: String {
        switch kind {
        case .scalar(.null): return "null"
        case .scalar(.string): return "text"
        case .scalar(.bool): return "a boolean"
        case .scalar(.int), .scalar(.float): return "a number"
        case .scalar: return "a value"
        case .list: return "a list"
        case .map: return "a mapping"
        }
    }

    /// The plain value (locations dropped), for hashing and for `compose convert`'s tests.
    var value: Value {
        switch kind {
        case .scalar(let v): return v
        case .list(let items): return .list(items.map(\.value))
        case .map(let pairs): return .dict(ValueDict(pairs.map { ($0.key, $0.value.value) }))
        }
    }

    /// Replaces (or adds, at the end) the value of a key of a mapping.
    mutating func set(_ key: String, _ node: ComposeNode) {
        guard case .map(var pairs) = kind else { return }
        if let index = pairs.lastIndex(where: { $0.key == key }) { pairs[index].value = node } else { pairs.append((key, node)) }
        kind = .map(pairs)
    }

    mutating func remove(_ key: String) {
        guard case .map(let pairs) = kind else { return }
        kind = .map(pairs.filter { $0.key != key })
    }
}

/// Why a compose project cannot be used: `where` is the key path (`services.web.ports[0]`), `location` the
/// file:line:col it came from when known.
struct ComposeError: Error, CustomStringConvertible, Equatable {
    var path: String
    var message: String
    var location: SourceLocation?

    init(_ path: String, _ message: String, at location: SourceLocation? = nil) {
        self.path = path
        self.message = message
        self.location = location
    }

    var description: String {
        (location.map { "\($0): " } ?? "") + (path.isEmpty ? "" : "\(path): ") + message
    }
}

extension ComposeNode {
    /// Reads one compose file. `text` is the file (for YAML 1.2 scalars, read back from their source).
    static func parse(_ text: String, file: String) throws -> ComposeNode {
        let stream: YAMLStream
        do {
            stream = try YAMLStream(text, file: file)
        } catch let error as ParseError {
            throw ComposeError("", error.message, at: error.location)
        }
        guard stream.documents.count <= 1 else {
            throw ComposeError("", "a compose file holds one YAML document, this one holds \(stream.documents.count)",
                               at: stream.documents.dropFirst().first.map(stream.location))
        }
        guard let root = stream.documents.first, !root.isNull else { return ComposeNode(.map([]), at: SourceLocation(file: file, line: 1, column: 1)) }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let node = try convert(root, stream, lines)
        guard node.pairs != nil else { throw ComposeError("", "a compose file is a mapping (services:, volumes:, ...), not \(node.typeName)", at: node.location) }
        return node
    }

    private static func convert(_ node: YAMLNode, _ stream: YAMLStream, _ lines: [String]) throws -> ComposeNode {
        let location = stream.location(of: node)
        switch node.value {
        case .sequence(let items):
            return ComposeNode(.list(try items.map { try convert($0, stream, lines) }), at: location)
        case .mapping(let pairs):
            var out: [(String, ComposeNode)] = []
            for pair in pairs {
                guard let key = keyText(pair.key) else {
                    throw ComposeError("", "mapping keys are text in a compose file", at: stream.location(of: pair.key))
                }
                out.append((key, try convert(pair.value, stream, lines)))
            }
            return ComposeNode(.map(out), at: location)
        case .string(let s):
            return .scalar(.string(s), at: location)
        default:
            // Plain scalars PyYAML resolved to something other than text: resolve their source again by YAML 1.2's core schema.
            guard node.style == .plain, let raw = rawPlain(node.mark, lines) else { return .scalar(Value(node), at: location) }
            return .scalar(core(raw), at: location)
        }
    }

    private static func keyText(_ node: YAMLNode) -> String? {
        switch node.value {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .float(let d): return format(d)
        default: return nil
        }
    }

    /// The source text of a plain scalar starting at `mark` (properties such as `&anchor` skipped), up to a
    /// comment, the end of the line, or a flow indicator.
    static func rawPlain(_ mark: SourceMark, _ lines: [String]) -> String? {
        let index = Int(mark.line) - 1
        guard index >= 0, index < lines.count else { return nil }
        // Columns count bytes.
        var rest = Substring(String(decoding: lines[index].utf8.dropFirst(max(0, Int(mark.column) - 1)), as: UTF8.self))
        while let first = rest.first, first == "&" || first == "!" {
            rest = rest.drop { !$0.isWhitespace }.drop { $0.isWhitespace }
        }
        var raw = ""
        var previous: Character = " "
        for c in rest {
            if c == "#" && previous.isWhitespace { break }
            if c == "," || c == "]" || c == "}" || c == "\r" { break }
            raw.append(c)
            previous = c
        }
        let trimmed = raw.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// YAML 1.2 core schema resolution of a plain scalar.
    static func core(_ raw: String) -> Value {
        switch raw {
        case "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .float(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .float(-.infinity)
        case ".nan", ".NaN", ".NAN": return .float(.nan)
        default: break
        }
        let body = raw.hasPrefix("-") || raw.hasPrefix("+") ? String(raw.dropFirst()) : raw
        let sign = raw.hasPrefix("-") ? -1 : 1
        if !body.isEmpty, body.allSatisfy(\.isASCIIDigit), let i = Int(body) { return .int(sign * i) }
        if raw.hasPrefix("0o"), let i = Int(raw.dropFirst(2), radix: 8) { return .int(i) }
        if raw.hasPrefix("0x"), let i = Int(raw.dropFirst(2), radix: 16) { return .int(i) }
        if raw.range(of: #"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$"#, options: .regularExpression) != nil, let d = Double(raw) {
            return .float(d)
        }
        return .string(raw)
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
