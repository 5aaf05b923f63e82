/// Block structure: sequences (`- `), mappings (`key: value`, `? key`), and the
/// choice between them and an inline scalar or flow collection.
extension YAMLParser {
    var isSequenceIndicator: Bool { c == UInt8(ascii: "-") && YAMLParser.isBlankOrEnd(at(1)) }
    var isExplicitKeyIndicator: Bool { c == UInt8(ascii: "?") && YAMLParser.isBlankOrEnd(at(1)) }

    /// The node after an indicator (`- `, `? `, `: `, `---`) or after a key's `:`.
    /// `parent` is the indentation of the entry that owns it (-1 for a document);
    /// `blockOut` lets a sequence sit at the parent's own indentation (mapping values);
    /// `compact` allows `- - x` and `- key: value` on the indicator's line.
    /// Returns nil when there is no node at all (an empty value).
    func parseBlockNode(parent n: Int, blockOut: Bool, compact: Bool) throws -> YAMLNode? {
        try enter()
        defer { leave() }
        let separator = i
        skipWhite()
        if !YAMLParser.isBreakOrEnd(c) && !atComment {
            if compact {
                let col = column
                // A nested collection on the indicator's line is indented by spaces only.
                let tabbed = b[separator..<i].contains(0x09)
                func untabbed() throws {
                    if tabbed { throw error("tabs cannot separate an indicator from a nested collection; use spaces") }
                }
                if isSequenceIndicator {
                    try untabbed()
                    return try parseBlockSequence(column: col, props: nil)
                }
                if isExplicitKeyIndicator {
                    try untabbed()
                    return try parseBlockMapping(column: col, props: nil, firstKey: nil)
                }
                if let key = try parseImplicitKey() {
                    try untabbed()
                    return try parseBlockMapping(column: col, props: nil, firstKey: key)
                }
            }
            let props = try parseProperties()
            if props == nil || !(YAMLParser.isBreakOrEnd(c) || atComment) {
                return try parseInlineNode(parent: n, props: props)
            }
            skipToContent()
            return try parseNodeBelow(parent: n, blockOut: blockOut, props: props)
        }
        skipToContent()
        return try parseNodeBelow(parent: n, blockOut: blockOut, props: nil)
    }

    /// A node that starts on a later line (we are at that line's content).
    func parseNodeBelow(parent n: Int, blockOut: Bool, props: Properties?) throws -> YAMLNode? {
        let m = column
        if atEnd || atAnyDocumentMarker || m < n || m == n && !(blockOut && isSequenceIndicator) {
            return try props.map { try empty($0, $0.mark) }
        }
        return try parseLineStartNode(parent: n, blockOut: blockOut, props: props)
    }

    /// A node whose first character is the first content of a line, indented past `parent`.
    func parseLineStartNode(parent n: Int, blockOut: Bool, props: Properties?) throws -> YAMLNode? {
        let m = column
        let tabbed = lineIndent != m
        if isSequenceIndicator || isExplicitKeyIndicator {
            if tabbed { throw error("tabs cannot be used for indentation; use spaces") }
            return isSequenceIndicator
                ? try parseBlockSequence(column: m, props: props)
                : try parseBlockMapping(column: m, props: props, firstKey: nil)
        }
        if let key = try parseImplicitKey() {
            if tabbed { throw error("tabs cannot be used for indentation; use spaces", at: key.mark) }
            return try parseBlockMapping(column: m, props: props, firstKey: key)
        }
        var props = props
        if let more = try parseProperties() {
            // Properties may be split over lines (`&a` then `!!str` below it).
            if var first = props {
                if more.anchor != nil && first.anchor != nil || more.tag != nil && first.tag != nil {
                    throw error("a node can have only one anchor and one tag", at: more.mark)
                }
                first.anchor = first.anchor ?? more.anchor
                first.tag = first.tag ?? more.tag
                props = first
            } else {
                props = more
            }
            if YAMLParser.isBreakOrEnd(c) || atComment {
                skipToContent()
                return try parseNodeBelow(parent: n, blockOut: blockOut, props: props)
            }
        }
        return try parseInlineNode(parent: n, props: props)
    }

    /// A scalar, alias or flow collection that starts on this line (block scalars included).
    func parseInlineNode(parent n: Int, props: Properties?) throws -> YAMLNode {
        let start = props?.mark ?? mark
        let node: YAMLNode
        switch c {
        case UInt8(ascii: "|"), UInt8(ascii: ">"):
            return try parseBlockScalar(parent: n, props: props)
        case UInt8(ascii: "*"):
            if let p = props { throw error("an alias cannot have an anchor or a tag", at: p.mark) }
            node = try parseAlias()
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            node = try parseFlowCollection(minIndent: n + 1, singleLine: false, props: props)
        case UInt8(ascii: "\""):
            node = try makeScalar(try scanDoubleQuoted(minIndent: n + 1, singleLine: false), style: .doubleQuoted, props: props, mark: start)
        case UInt8(ascii: "'"):
            node = try makeScalar(try scanSingleQuoted(minIndent: n + 1, singleLine: false), style: .singleQuoted, props: props, mark: start)
        default:
            if isPlainStart(flow: false) {
                node = try makeScalar(scanPlain(minIndent: n + 1, flow: false, singleLine: false), style: .plain, props: props, mark: start)
            } else if YAMLParser.isBreakOrEnd(c) || atComment {
                node = try empty(props, start)
            } else {
                throw unexpectedCharacter()
            }
        }
        try finishLine()
        return node
    }

    /// An indentation error, or the real cause when the line is indented with a tab.
    func indentationError(_ message: String) -> ParseError {
        lineIndent != column ? error("tabs cannot be used for indentation; use spaces") : error(message)
    }

    func unexpectedCharacter() -> ParseError {
        switch c {
        case UInt8(ascii: "@"), UInt8(ascii: "`"):
            return error("'\(Character(UnicodeScalar(c)))' is reserved and cannot start a plain scalar; quote the value")
        case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"):
            return error("a block collection cannot start here; put it on its own line or quote the value")
        case UInt8(ascii: "\t"):
            return error("tabs cannot be used for indentation; use spaces")
        default:
            let ch = c < 0x80 ? String(Character(UnicodeScalar(c))) : "character"
            return error("unexpected '\(ch)'; quote the value if it is text")
        }
    }

    /// Tries to read `key:` on this line (the key may carry properties). Restores the
    /// position and returns nil when the line is not a mapping entry.
    func parseImplicitKey() throws -> YAMLNode? {
        let saved = cursor
        let savedExpansion = aliasExpansion
        func notAKey() -> YAMLNode? {
            cursor = saved
            aliasExpansion = savedExpansion
            return nil
        }
        do {
            let props = try parseProperties()
            let start = props?.mark ?? mark
            let key: YAMLNode
            switch c {
            case UInt8(ascii: "*"):
                if props != nil { return notAKey() }
                key = try parseAlias()
            case UInt8(ascii: "\""):
                key = try makeScalar(try scanDoubleQuoted(minIndent: 0, singleLine: true), style: .doubleQuoted, props: props, mark: start)
            case UInt8(ascii: "'"):
                key = try makeScalar(try scanSingleQuoted(minIndent: 0, singleLine: true), style: .singleQuoted, props: props, mark: start)
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                key = try parseFlowCollection(minIndent: 0, singleLine: true, props: props)
            case UInt8(ascii: ":") where props != nil && YAMLParser.isBlankOrEnd(at(1)):
                key = try empty(props, start)
            default:
                guard isPlainStart(flow: false) else { return notAKey() }
                key = try makeScalar(scanPlain(minIndent: 0, flow: false, singleLine: true), style: .plain, props: props, mark: start)
            }
            skipWhite()
            guard c == UInt8(ascii: ":"), YAMLParser.isBlankOrEnd(at(1)) else { return notAKey() }
            i += 1
            return key
        } catch {
            return notAKey()
        }
    }

    func parseBlockSequence(column m: Int, props: Properties?) throws -> YAMLNode {
        let start = props?.mark ?? mark
        var items: [YAMLNode] = []
        while true {
            let itemMark = mark
            i += 1
            items.append(try parseBlockNode(parent: m, blockOut: false, compact: true) ?? empty(nil, itemMark))
            if atEnd || atAnyDocumentMarker || column < m { break }
            if column > m {
                throw indentationError("bad indentation: expected '- ' at column \(m + 1) like the entries above, or less indentation to end the list")
            }
            guard isSequenceIndicator else { break }
            if lineIndent != m { throw error("tabs cannot be used for indentation; use spaces") }
        }
        return try makeSequence(items, style: .block, props: props, mark: start)
    }

    func parseBlockMapping(column m: Int, props: Properties?, firstKey: YAMLNode?) throws -> YAMLNode {
        let start = props?.mark ?? firstKey?.mark ?? mark
        var pairs: [YAMLPair] = []
        var pendingKey = firstKey
        while true {
            let key: YAMLNode
            var value: YAMLNode?
            let implicitKey = pendingKey == nil && !isExplicitKeyIndicator ? try parseImplicitKey() : nil
            if let k = pendingKey ?? implicitKey {
                pendingKey = nil
                key = k
                let valueMark = mark
                value = try parseBlockNode(parent: m, blockOut: true, compact: false) ?? empty(nil, valueMark)
            } else if isExplicitKeyIndicator {
                let keyMark = mark
                i += 1
                key = try parseBlockNode(parent: m, blockOut: true, compact: true) ?? empty(nil, keyMark)
                if column == m && !atEnd && c == UInt8(ascii: ":") && YAMLParser.isBlankOrEnd(at(1)) && lineIndent == m {
                    let valueMark = mark
                    i += 1
                    value = try parseBlockNode(parent: m, blockOut: true, compact: true) ?? empty(nil, valueMark)
                }
            } else {
                throw error(isSequenceIndicator
                    ? "a list entry '- ' cannot follow a mapping entry at the same indentation; indent it under a key"
                    : "expected a mapping entry 'key: value' at column \(m + 1)")
            }
            pairs.append(YAMLPair(key: key, value: try value ?? empty(nil, key.mark)))
            if atEnd || atAnyDocumentMarker || column < m { break }
            if column > m {
                throw indentationError("bad indentation: expected a key at column \(m + 1) like the keys above, or less indentation to end the mapping")
            }
            if lineIndent != m { throw error("tabs cannot be used for indentation; use spaces") }
        }
        return try makeMapping(pairs, style: .block, props: props, mark: start)
    }
}
