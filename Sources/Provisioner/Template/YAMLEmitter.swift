import Foundation

/// YAML as PyYAML's `yaml.dump` writes it (what `to_yaml` and `to_nice_yaml` produce):
/// sorted keys, block sequences unindented under mapping keys, plain scalars where they
/// read back as the same string, else single or double quotes, lines folded at `width`.
/// The writer routines are a port of PyYAML's emitter so the output matches byte for byte.
struct YAMLEmitter {
    enum FlowStyle { case auto, flow, block }

    struct Options {
        var indent = 2
        var width = 80
        var flowStyle = FlowStyle.auto
        var sortKeys = true
        var allowUnicode = true
        var explicitStart = false
        var explicitEnd = false
    }

    static func dump(_ value: Value, _ options: Options = Options()) -> String {
        var emitter = YAMLEmitter(options: options)
        emitter.emitDocument(represent(value, options))
        return String(emitter.out)
    }

    // MARK: Representation

    indirect enum Node {
        /// `plain`: whether the text read back as a plain scalar keeps this node's type.
        case scalar(String, plain: Bool)
        case sequence([Node], flow: Bool)
        case mapping([(key: Node, value: Node)], flow: Bool)

        var isScalar: Bool { if case .scalar = self { return true } else { return false } }
    }

    static func represent(_ value: Value, _ options: Options) -> Node {
        func collectionFlow(_ items: [Node]) -> Bool {
            switch options.flowStyle {
            case .flow: return true
            case .block: return false
            case .auto: return items.allSatisfy(\.isScalar)
            }
        }
        switch value {
        case .null: return .scalar("null", plain: true)
        case .bool(let b): return .scalar(b ? "true" : "false", plain: true)
        case .int(let i): return .scalar(String(i), plain: true)
        case .float(let d):
            if d.isNaN { return .scalar(".nan", plain: true) }
            if d.isInfinite { return .scalar(d < 0 ? "-.inf" : ".inf", plain: true) }
            var text = PythonFloat.repr(d).lowercased()
            if !text.contains("."), let e = text.firstIndex(of: "e") { text.replaceSubrange(e...e, with: ".0e") }
            return .scalar(text, plain: true)
        case .string(let s): return .scalar(s, plain: resolvesToString(s))
        case .unsafe(let v): return represent(v, options)
        case .list(let items):
            let nodes = items.map { represent($0, options) }
            return .sequence(nodes, flow: collectionFlow(nodes))
        case .dict(let d):
            var keys = d.keys
            if options.sortKeys { keys.sort { PythonString.compare($0, $1) == .less } }
            let pairs = keys.map { (key: represent(.string($0), options), value: represent(d[$0] ?? .null, options)) }
            return .mapping(pairs, flow: collectionFlow(pairs.flatMap { [$0.key, $0.value] }))
        }
    }

    /// PyYAML's implicit resolvers (YAML 1.1): a string that would read back as a bool,
    /// int, float, null, timestamp, merge or value key must be quoted.
    static func resolvesToString(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first else { return false }
        let range = NSRange(location: 0, length: s.utf16.count)
        let candidates: [NSRegularExpression?]
        switch first {
        case "y", "Y", "n", "N", "t", "T", "f", "F", "o", "O": candidates = [Patterns.bool, Patterns.null]
        case "~": candidates = [Patterns.null]
        case "<": candidates = [Patterns.merge]
        case "=": candidates = [Patterns.value]
        case "+", "-", ".": candidates = [Patterns.float, Patterns.int]
        case "0"..."9": candidates = [Patterns.float, Patterns.int, Patterns.timestamp]
        default: return true
        }
        return !candidates.contains { $0?.firstMatch(in: s, options: [.anchored], range: range)?.range == range }
    }

    enum Patterns {
        static func make(_ pattern: String) -> NSRegularExpression? {
            // Constant patterns: the tests cover every one, so nil never happens in practice.
            try? NSRegularExpression(pattern: "^(?:" + pattern + ")$")
        }
        static let bool = make("yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF")
        static let float = make(#"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"#)
        static let int = make(#"[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+"#)
        static let merge = make("<<")
        static let null = make("~|null|Null|NULL|")
        static let timestamp = make(#"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?"#)
        static let value = make("=")
    }

    // MARK: Emitter state (PyYAML's names)

    let bestIndent: Int
    let bestWidth: Int
    let allowUnicode: Bool
    let options: Options
    var out = String.UnicodeScalarView()
    var column = 0
    var whitespace = true
    var indention = true
    var indent: Int?
    var indents: [Int?] = []
    var flowLevel = 0
    var sequenceContext = false
    var mappingContext = false
    var simpleKeyContext = false

    init(options: Options) {
        self.options = options
        bestIndent = (2...9).contains(options.indent) ? options.indent : 2
        bestWidth = options.width > bestIndent * 2 ? options.width : 80
        allowUnicode = options.allowUnicode
    }

    mutating func emitDocument(_ node: Node) {
        if options.explicitStart {
            writeIndent()
            writeIndicator("---", needWhitespace: true)
        }
        emitNode(node)
        writeIndent()
        // libyaml (which Ansible's dumper uses) ends an open plain root scalar without `...`.
        if options.explicitEnd {
            writeIndicator("...", needWhitespace: true)
            writeIndent()
        }
    }

    mutating func increaseIndent(flow: Bool = false, indentless: Bool = false) {
        indents.append(indent)
        if let current = indent {
            if !indentless { indent = current + bestIndent }
        } else {
            indent = flow ? bestIndent : 0
        }
    }

    mutating func emitNode(_ node: Node, sequence: Bool = false, mapping: Bool = false, simpleKey: Bool = false) {
        sequenceContext = sequence
        mappingContext = mapping
        simpleKeyContext = simpleKey
        switch node {
        case .scalar(let text, let plain):
            increaseIndent(flow: true)
            processScalar(text, plainImplicit: plain)
            indent = indents.removeLast()
        case .sequence(let items, let flow):
            if flowLevel > 0 || flow || items.isEmpty { emitFlowSequence(items) } else { emitBlockSequence(items) }
        case .mapping(let pairs, let flow):
            if flowLevel > 0 || flow || pairs.isEmpty { emitFlowMapping(pairs) } else { emitBlockMapping(pairs) }
        }
    }

    mutating func emitFlowSequence(_ items: [Node]) {
        writeIndicator("[", needWhitespace: true, whitespace: true)
        flowLevel += 1
        increaseIndent(flow: true)
        for (n, item) in items.enumerated() {
            if n > 0 { writeIndicator(",", needWhitespace: false) }
            if column > bestWidth { writeIndent() }
            emitNode(item, sequence: true)
        }
        indent = indents.removeLast()
        flowLevel -= 1
        writeIndicator("]", needWhitespace: false)
    }

    mutating func emitFlowMapping(_ pairs: [(key: Node, value: Node)]) {
        writeIndicator("{", needWhitespace: true, whitespace: true)
        flowLevel += 1
        increaseIndent(flow: true)
        for (n, pair) in pairs.enumerated() {
            if n > 0 { writeIndicator(",", needWhitespace: false) }
            if column > bestWidth { writeIndent() }
            if isSimpleKey(pair.key) {
                emitNode(pair.key, mapping: true, simpleKey: true)
                writeIndicator(":", needWhitespace: false)
            } else {
                writeIndicator("?", needWhitespace: true)
                emitNode(pair.key, mapping: true)
                if column > bestWidth { writeIndent() }
                writeIndicator(":", needWhitespace: true)
            }
            emitNode(pair.value, mapping: true)
        }
        indent = indents.removeLast()
        flowLevel -= 1
        writeIndicator("}", needWhitespace: false)
    }

    mutating func emitBlockSequence(_ items: [Node]) {
        increaseIndent(flow: false, indentless: mappingContext && !indention)
        for item in items {
            writeIndent()
            writeIndicator("-", needWhitespace: true, indention: true)
            emitNode(item, sequence: true)
        }
        indent = indents.removeLast()
    }

    mutating func emitBlockMapping(_ pairs: [(key: Node, value: Node)]) {
        increaseIndent(flow: false)
        for pair in pairs {
            writeIndent()
            if isSimpleKey(pair.key) {
                emitNode(pair.key, mapping: true, simpleKey: true)
                writeIndicator(":", needWhitespace: false)
            } else {
                writeIndicator("?", needWhitespace: true, indention: true)
                emitNode(pair.key, mapping: true)
                writeIndent()
                writeIndicator(":", needWhitespace: true, indention: true)
            }
            emitNode(pair.value, mapping: true)
        }
        indent = indents.removeLast()
    }

    func isSimpleKey(_ node: Node) -> Bool {
        switch node {
        case .scalar(let text, _):
            // libyaml measures keys in bytes and, unlike PyYAML, accepts an empty key as simple.
            return text.utf8.count < 128 && !ScalarAnalysis(text, allowUnicode: allowUnicode).multiline
        case .sequence(let items, _): return items.isEmpty
        case .mapping(let pairs, _): return pairs.isEmpty
        }
    }

    mutating func processScalar(_ text: String, plainImplicit: Bool) {
        let analysis = ScalarAnalysis(text, allowUnicode: allowUnicode)
        let split = !simpleKeyContext
        if plainImplicit, !(simpleKeyContext && (analysis.empty || analysis.multiline)),
           (flowLevel > 0 && analysis.allowFlowPlain) || (flowLevel == 0 && analysis.allowBlockPlain) {
            writePlain(analysis.scalars, split: split)
        } else if analysis.allowSingleQuoted, !(simpleKeyContext && analysis.multiline) {
            writeSingleQuoted(analysis.scalars, split: split)
        } else {
            writeDoubleQuoted(analysis.scalars, split: split)
        }
    }

    // MARK: Writers

    /// `text[start:end]` with Python's forgiving bounds.
    static func slice(_ text: [Unicode.Scalar], _ start: Int, _ end: Int) -> String {
        start < end ? String(String.UnicodeScalarView(text[start..<end])) : ""
    }

    static func isBreak(_ c: Unicode.Scalar?) -> Bool {
        guard let c else { return false }
        return c == "\n" || c == "\u{85}" || c == "\u{2028}" || c == "\u{2029}"
    }

    mutating func write(_ s: String.UnicodeScalarView.SubSequence) {
        out.append(contentsOf: s)
        column += s.count
    }

    mutating func write(_ s: String) {
        out.append(contentsOf: s.unicodeScalars)
        column += s.unicodeScalars.count
    }

    mutating func writeIndicator(_ indicator: String, needWhitespace: Bool, whitespace: Bool = false, indention: Bool = false) {
        write(self.whitespace || !needWhitespace ? indicator : " " + indicator)
        self.whitespace = whitespace
        self.indention = self.indention && indention
    }

    mutating func writeIndent() {
        let target = indent ?? 0
        if !indention || column > target || (column == target && !whitespace) { writeLineBreak() }
        if column < target {
            whitespace = true
            write(String(repeating: " ", count: target - column))
        }
    }

    mutating func writeLineBreak(_ text: Unicode.Scalar = "\n") {
        whitespace = true
        indention = true
        out.append(text)
        column = 0
    }

    mutating func writePlain(_ text: [Unicode.Scalar], split: Bool) {
        if text.isEmpty { return }
        if !whitespace { write(" ") }
        whitespace = false
        indention = false
        var spaces = false, breaks = false
        var start = 0, end = 0
        while end <= text.count {
            let ch: Unicode.Scalar? = end < text.count ? text[end] : nil
            if spaces {
                if ch != " " {
                    if start + 1 == end, column > bestWidth, split {
                        writeIndent()
                        whitespace = false
                        indention = false
                    } else {
                        write(Self.slice(text, start, end))
                    }
                    start = end
                }
            } else if breaks {
                if !Self.isBreak(ch) {
                    if text[start] == "\n" { writeLineBreak() }
                    for br in text[start..<end] { writeLineBreak(br) }
                    writeIndent()
                    whitespace = false
                    indention = false
                    start = end
                }
            } else if ch == nil || ch == " " || Self.isBreak(ch) {
                write(Self.slice(text, start, end))
                start = end
            }
            if let ch {
                spaces = ch == " "
                breaks = Self.isBreak(ch)
            }
            end += 1
        }
    }

    mutating func writeSingleQuoted(_ text: [Unicode.Scalar], split: Bool) {
        writeIndicator("'", needWhitespace: true)
        var spaces = false, breaks = false
        var start = 0, end = 0
        while end <= text.count {
            let ch: Unicode.Scalar? = end < text.count ? text[end] : nil
            if spaces {
                if ch == nil || ch != " " {
                    if start + 1 == end, column > bestWidth, split, start != 0, end != text.count {
                        writeIndent()
                    } else {
                        write(Self.slice(text, start, end))
                    }
                    start = end
                }
            } else if breaks {
                if ch == nil || !Self.isBreak(ch) {
                    if text[start] == "\n" { writeLineBreak() }
                    for br in text[start..<end] { writeLineBreak(br) }
                    writeIndent()
                    start = end
                }
            } else if ch == nil || ch == " " || Self.isBreak(ch) || ch == "'" {
                if start < end {
                    write(Self.slice(text, start, end))
                    start = end
                }
            }
            if ch == "'" {
                write("''")
                start = end + 1
            }
            if let ch {
                spaces = ch == " "
                breaks = Self.isBreak(ch)
            }
            end += 1
        }
        writeIndicator("'", needWhitespace: false)
    }

    static let escapes: [Unicode.Scalar: String] = [
        "\0": "0", "\u{07}": "a", "\u{08}": "b", "\u{09}": "t", "\u{0A}": "n", "\u{0B}": "v", "\u{0C}": "f",
        "\u{0D}": "r", "\u{1B}": "e", "\"": "\"", "\\": "\\", "\u{85}": "N", "\u{A0}": "_", "\u{2028}": "L", "\u{2029}": "P",
    ]

    /// libyaml's double-quoted writer (it differs from PyYAML's): escapes as needed, and
    /// folds long lines only at single spaces, escaping a following space with `\`.
    mutating func writeDoubleQuoted(_ text: [Unicode.Scalar], split: Bool) {
        writeIndicator("\"", needWhitespace: true)
        var spaces = false
        for (i, ch) in text.enumerated() {
            let printable = (ch.value >= 0x20 && ch.value <= 0x7E) || (allowUnicode && ScalarAnalysis.isPrintableUnicode(ch))
            if !printable || ch == "\u{FEFF}" || Self.isBreak(ch) || ch == "\r" || ch == "\"" || ch == "\\" {
                if let e = Self.escapes[ch] {
                    write("\\" + e)
                } else {
                    let hex = String(ch.value, radix: 16, uppercase: true)
                    let (prefix, width) = ch.value <= 0xFF ? ("\\x", 2) : ch.value <= 0xFFFF ? ("\\u", 4) : ("\\U", 8)
                    write(prefix + String(repeating: "0", count: max(0, width - hex.count)) + hex)
                }
                spaces = false
            } else if ch == " " {
                if split, !spaces, column > bestWidth, i != 0, i != text.count - 1 {
                    writeIndent()
                    if i + 1 < text.count, text[i + 1] == " " { write("\\") }
                } else {
                    write(" ")
                }
                spaces = true
            } else {
                out.append(ch)
                column += 1
                spaces = false
            }
        }
        writeIndicator("\"", needWhitespace: false)
    }
}

/// PyYAML's `analyze_scalar` (with libyaml's character classes): which styles can represent a string faithfully.
struct ScalarAnalysis {
    let scalars: [Unicode.Scalar]
    var empty = false
    var multiline = false
    var allowFlowPlain = true
    var allowBlockPlain = true
    var allowSingleQuoted = true

    /// libyaml's printable non-ASCII range (narrower than PyYAML's: no NEL, nothing beyond the BMP).
    static func isPrintableUnicode(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        return (v >= 0xA0 && v <= 0xD7FF) || (v >= 0xE000 && v <= 0xFFFD && v != 0xFEFF)
    }

    init(_ text: String, allowUnicode: Bool) {
        scalars = Array(text.unicodeScalars)
        guard !scalars.isEmpty else {
            empty = true
            allowFlowPlain = false
            return
        }
        let s = scalars
        func isSpaceOrBreak(_ c: Unicode.Scalar) -> Bool {
            c == "\0" || c == " " || c == "\t" || c == "\r" || c == "\n" || c == "\u{85}" || c == "\u{2028}" || c == "\u{2029}"
        }
        var blockIndicators = false, flowIndicators = false, lineBreaks = false, specialCharacters = false
        var leadingSpace = false, leadingBreak = false, trailingSpace = false, trailingBreak = false
        var breakSpace = false, spaceBreak = false
        if text.hasPrefix("---") || text.hasPrefix("...") {
            blockIndicators = true
            flowIndicators = true
        }
        var precededByWhitespace = true
        var followedByWhitespace = s.count == 1 || isSpaceOrBreak(s[1])
        var previousSpace = false, previousBreak = false
        for index in 0..<s.count {
            let ch = s[index]
            if index == 0 {
                if "#,[]{}&*!|>'\"%@`".unicodeScalars.contains(ch) {
                    flowIndicators = true
                    blockIndicators = true
                }
                if ch == "?" || ch == ":" {
                    flowIndicators = true
                    if followedByWhitespace { blockIndicators = true }
                }
                if ch == "-", followedByWhitespace {
                    flowIndicators = true
                    blockIndicators = true
                }
            } else {
                if ",?[]{}".unicodeScalars.contains(ch) { flowIndicators = true }
                if ch == ":" {
                    flowIndicators = true
                    if followedByWhitespace { blockIndicators = true }
                }
                if ch == "#", precededByWhitespace {
                    flowIndicators = true
                    blockIndicators = true
                }
            }
            if YAMLEmitter.isBreak(ch) { lineBreaks = true }
            if !(ch == "\n" || (ch.value >= 0x20 && ch.value <= 0x7E)) {
                if !allowUnicode || !Self.isPrintableUnicode(ch) { specialCharacters = true }
            }
            if ch == " " {
                if index == 0 { leadingSpace = true }
                if index == s.count - 1 { trailingSpace = true }
                if previousBreak { breakSpace = true }
                previousSpace = true
                previousBreak = false
            } else if YAMLEmitter.isBreak(ch) {
                if index == 0 { leadingBreak = true }
                if index == s.count - 1 { trailingBreak = true }
                if previousSpace { spaceBreak = true }
                previousSpace = false
                previousBreak = true
            } else {
                previousSpace = false
                previousBreak = false
            }
            precededByWhitespace = isSpaceOrBreak(ch)
            followedByWhitespace = index + 2 >= s.count || isSpaceOrBreak(s[index + 2])
        }
        if leadingSpace || leadingBreak || trailingSpace || trailingBreak {
            allowFlowPlain = false
            allowBlockPlain = false
        }
        if breakSpace {
            allowFlowPlain = false
            allowBlockPlain = false
            allowSingleQuoted = false
        }
        if spaceBreak || specialCharacters {
            allowFlowPlain = false
            allowBlockPlain = false
            allowSingleQuoted = false
        }
        if lineBreaks {
            allowFlowPlain = false
            allowBlockPlain = false
        }
        if flowIndicators { allowFlowPlain = false }
        if blockIndicators { allowBlockPlain = false }
        multiline = lineBreaks
    }
}
