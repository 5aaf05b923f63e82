/// Flow collections: `[a, b]`, `{k: v}`, single-pair mappings inside sequences
/// (`[k: v]`), explicit `? ` entries, and JSON-style adjacent values (`{"k":v}`).
extension YAMLParser {
    /// `minIndent`: lines inside the collection need this many leading spaces
    /// (one more than the block that holds it), except a line that starts with a
    /// closing bracket. `singleLine`: it is a key candidate.
    func parseFlowCollection(minIndent: Int, singleLine: Bool, props: Properties?) throws -> YAMLNode {
        try enter()
        defer { leave() }
        let start = props?.mark ?? mark
        let open = mark
        let isSequence = c == UInt8(ascii: "[")
        let close = isSequence ? UInt8(ascii: "]") : UInt8(ascii: "}")
        i += 1
        var items: [YAMLNode] = []
        var pairs: [YAMLPair] = []
        while true {
            try skipFlowSpace(minIndent: minIndent, singleLine: singleLine)
            if c == close { i += 1; break }
            if isSequence {
                items.append(try parseFlowSequenceEntry(minIndent: minIndent, singleLine: singleLine))
            } else {
                pairs.append(try parseFlowMappingEntry(minIndent: minIndent, singleLine: singleLine))
            }
            try skipFlowSpace(minIndent: minIndent, singleLine: singleLine)
            if c == UInt8(ascii: ",") { i += 1; continue }
            if c == close { i += 1; break }
            if atEnd {
                throw error("'\(isSequence ? "[" : "{")' opened at line \(open.line), column \(open.column) is never closed")
            }
            throw error("expected ',' or '\(isSequence ? "]" : "}")' in this flow \(isSequence ? "sequence" : "mapping")")
        }
        return isSequence
            ? try makeSequence(items, style: .flow, props: props, mark: start)
            : try makeMapping(pairs, style: .flow, props: props, mark: start)
    }

    /// Whitespace, comments and line breaks inside a flow collection.
    func skipFlowSpace(minIndent: Int, singleLine: Bool) throws {
        while true {
            skipWhite()
            if atComment { while !YAMLParser.isBreakOrEnd(c) { i += 1 } }
            guard c == 0x0A else { return }
            if singleLine { throw error("a key must be on one line") }
            newline()
            var spaces = 0
            while b[i + spaces] == 0x20 { spaces += 1 }
            if spaces == 0 && atAnyDocumentMarker {
                throw error("a document marker cannot appear inside a flow collection; close it first")
            }
            var k = i + spaces
            while YAMLParser.isWhite(b[k]) { k += 1 }
            let blank = YAMLParser.isBreakOrEnd(b[k]) || b[k] == UInt8(ascii: "#")
            // PyYAML, and so Ansible, take a closing bracket at any indentation
            // (`key: {` ... `}` at the key's column, as JSON is written).
            let closes = b[i + spaces] == UInt8(ascii: "}") || b[i + spaces] == UInt8(ascii: "]")
            if !blank && !closes && spaces < minIndent {
                i += spaces
                throw error("this line of a flow collection must be indented at least \(minIndent) space(s)")
            }
        }
    }

    /// After `:` in flow context: a value, or nothing before `,` / the closing bracket.
    func parseFlowValue(minIndent: Int, singleLine: Bool, mark valueMark: SourceMark) throws -> YAMLNode {
        try skipFlowSpace(minIndent: minIndent, singleLine: singleLine)
        return try parseFlowNode(minIndent: minIndent, singleLine: singleLine) ?? empty(nil, valueMark)
    }

    var atFlowValueIndicator: Bool {
        c == UInt8(ascii: ":") && (YAMLParser.isBlankOrEnd(at(1)) || YAMLParser.isFlowIndicator(at(1)))
    }

    /// `? key : value` inside flow collections.
    func parseFlowExplicitPair(minIndent: Int, singleLine: Bool) throws -> YAMLPair {
        let keyMark = mark
        i += 1
        try skipFlowSpace(minIndent: minIndent, singleLine: singleLine)
        let key = try parseFlowNode(minIndent: minIndent, singleLine: singleLine) ?? empty(nil, keyMark)
        try skipFlowSpace(minIndent: minIndent, singleLine: singleLine)
        guard atFlowValueIndicator else { return YAMLPair(key: key, value: try empty(nil, mark)) }
        let valueMark = mark
        i += 1
        return YAMLPair(key: key, value: try parseFlowValue(minIndent: minIndent, singleLine: singleLine, mark: valueMark))
    }

    var atFlowExplicitKey: Bool {
        c == UInt8(ascii: "?") && (YAMLParser.isBlankOrEnd(at(1)) || YAMLParser.isFlowIndicator(at(1)))
    }

    func parseFlowSequenceEntry(minIndent: Int, singleLine: Bool) throws -> YAMLNode {
        let entryMark = mark
        if atFlowExplicitKey {
            let pair = try parseFlowExplicitPair(minIndent: minIndent, singleLine: singleLine)
            return try makeMapping([pair], style: .flow, props: nil, mark: entryMark)
        }
        let keyLine = line
        let node: YAMLNode
        if atFlowValueIndicator {
            node = try empty(nil, entryMark)
        } else if let n = try parseFlowNode(minIndent: minIndent, singleLine: singleLine) {
            node = n
        } else {
            throw error(c == UInt8(ascii: ",") ? "empty entry in a flow sequence (two commas in a row?)" : "expected a value in this flow sequence")
        }
        skipWhite()
        guard c == UInt8(ascii: ":"), atFlowValueIndicator || node.isJSONLike else { return node }
        guard line == keyLine else { throw error("the key of a single-pair mapping must be on one line with its ':'") }
        let valueMark = mark
        i += 1
        let value = try parseFlowValue(minIndent: minIndent, singleLine: singleLine, mark: valueMark)
        return try makeMapping([YAMLPair(key: node, value: value)], style: .flow, props: nil, mark: entryMark)
    }

    func parseFlowMappingEntry(minIndent: Int, singleLine: Bool) throws -> YAMLPair {
        if atFlowExplicitKey { return try parseFlowExplicitPair(minIndent: minIndent, singleLine: singleLine) }
        let keyMark = mark
        let key: YAMLNode
        if atFlowValueIndicator {
            key = try empty(nil, keyMark)
        } else if let k = try parseFlowNode(minIndent: minIndent, singleLine: singleLine) {
            key = k
        } else {
            throw error(c == UInt8(ascii: ",") ? "empty entry in a flow mapping (two commas in a row?)" : "expected a key in this flow mapping")
        }
        try skipFlowSpace(minIndent: minIndent, singleLine: singleLine)
        guard c == UInt8(ascii: ":"), atFlowValueIndicator || key.isJSONLike else {
            return YAMLPair(key: key, value: try empty(nil, mark))
        }
        let valueMark = mark
        i += 1
        return YAMLPair(key: key, value: try parseFlowValue(minIndent: minIndent, singleLine: singleLine, mark: valueMark))
    }

    /// A node inside a flow collection; nil when there is none (e.g. before `,`).
    func parseFlowNode(minIndent: Int, singleLine: Bool) throws -> YAMLNode? {
        let props = try parseProperties()
        if props != nil { try skipFlowSpace(minIndent: minIndent, singleLine: singleLine) }
        let start = props?.mark ?? mark
        switch c {
        case UInt8(ascii: "*"):
            if let p = props { throw error("an alias cannot have an anchor or a tag", at: p.mark) }
            return try parseAlias()
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            return try parseFlowCollection(minIndent: minIndent, singleLine: singleLine, props: props)
        case UInt8(ascii: "\""):
            return try makeScalar(try scanDoubleQuoted(minIndent: minIndent, singleLine: singleLine), style: .doubleQuoted, props: props, mark: start)
        case UInt8(ascii: "'"):
            return try makeScalar(try scanSingleQuoted(minIndent: minIndent, singleLine: singleLine), style: .singleQuoted, props: props, mark: start)
        default:
            if isPlainStart(flow: true) {
                return try makeScalar(scanPlain(minIndent: minIndent, flow: true, singleLine: singleLine), style: .plain, props: props, mark: start)
            }
            if props != nil { return try empty(props, start) }
            if atEnd { throw error("unexpected end of input inside a flow collection") }
            if c == UInt8(ascii: ",") || c == UInt8(ascii: "]") || c == UInt8(ascii: "}") || c == UInt8(ascii: ":") { return nil }
            throw unexpectedCharacter()
        }
    }
}

extension YAMLNode {
    /// Quoted scalars and flow collections may be followed directly by `:` (`{"a":1}`).
    var isJSONLike: Bool {
        switch style {
        case .singleQuoted, .doubleQuoted, .flow: return true
        default: return false
        }
    }
}
