/// Scalar syntax: plain (multi-line folding), single- and double-quoted (escapes),
/// literal and folded block scalars (indentation and chomping indicators), aliases.
extension YAMLParser {
    /// ns-plain-first: what may begin a plain scalar.
    func isPlainStart(flow: Bool) -> Bool {
        switch c {
        case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"):
            let next = at(1)
            return !YAMLParser.isBlankOrEnd(next) && !(flow && YAMLParser.isFlowIndicator(next))
        case UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"),
             UInt8(ascii: "#"), UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"),
             UInt8(ascii: ">"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "%"), UInt8(ascii: "@"),
             UInt8(ascii: "`"), 0x20, 0x09, 0x0A, 0:
            return false
        default:
            return true
        }
    }

    /// Whether a plain scalar stops at `i` (`: `, ` #`, and flow indicators in flow context).
    @inline(__always) func plainStops(flow: Bool) -> Bool {
        let ch = c
        if ch == UInt8(ascii: ":") {
            let next = at(1)
            return YAMLParser.isBlankOrEnd(next) || flow && YAMLParser.isFlowIndicator(next)
        }
        if ch == UInt8(ascii: "#") { return YAMLParser.isWhite(b[i - 1]) }
        return flow && YAMLParser.isFlowIndicator(ch)
    }

    /// Reads a plain scalar. Continuation lines need `minIndent` leading spaces.
    func scanPlain(minIndent: Int, flow: Bool, singleLine: Bool) -> String {
        var out: [UInt8] = []
        var segmentStart = i
        var segmentEnd = i
        var multiLine = false
        while true {
            while !YAMLParser.isBreakOrEnd(c) && !plainStops(flow: flow) {
                let ch = c
                i += 1
                if !YAMLParser.isWhite(ch) { segmentEnd = i }
            }
            if multiLine { out.append(contentsOf: b[segmentStart..<segmentEnd]) }
            guard c == 0x0A, !singleLine else { break }
            // Look past the line break for a continuation line.
            let save = cursor
            var breaks = 0
            var continues = false
            while c == 0x0A {
                newline()
                breaks += 1
                var spaces = 0
                while c == 0x20 { i += 1; spaces += 1 }
                if spaces == 0 && atAnyDocumentMarker { break }
                skipWhite()
                if c == 0x0A { continue }
                if c == 0 || atComment || spaces < minIndent || plainStops(flow: flow) { break }
                continues = true
            }
            guard continues else {
                cursor = save
                break
            }
            if !multiLine {
                out.append(contentsOf: b[segmentStart..<segmentEnd])
                multiLine = true
            }
            if breaks == 1 {
                out.append(0x20)
            } else {
                out.append(contentsOf: repeatElement(0x0A, count: breaks - 1))
            }
            segmentStart = i
            segmentEnd = i
        }
        return multiLine ? String(decoding: out, as: UTF8.self) : String(decoding: b[segmentStart..<segmentEnd], as: UTF8.self)
    }

    func scanSingleQuoted(minIndent: Int, singleLine: Bool) throws -> String {
        let open = mark
        i += 1
        var out: [UInt8] = []
        var keep = 0
        while true {
            let ch = c
            if ch == UInt8(ascii: "'") {
                if at(1) == UInt8(ascii: "'") {
                    out.append(ch)
                    i += 2
                    keep = out.count
                    continue
                }
                i += 1
                return String(decoding: out, as: UTF8.self)
            }
            if ch == 0 { throw error("unterminated single-quoted string (opened at line \(open.line), column \(open.column))") }
            if ch == 0x0A {
                if singleLine { throw error("a quoted key must be on one line") }
                out.removeLast(out.count - keep)
                try foldQuotedBreak(&out, escaped: false, minIndent: minIndent)
                keep = out.count
                continue
            }
            out.append(ch)
            i += 1
            if !YAMLParser.isWhite(ch) { keep = out.count }
        }
    }

    func scanDoubleQuoted(minIndent: Int, singleLine: Bool) throws -> String {
        let open = mark
        i += 1
        var out: [UInt8] = []
        var keep = 0
        while true {
            let ch = c
            switch ch {
            case UInt8(ascii: "\""):
                i += 1
                return String(decoding: out, as: UTF8.self)
            case 0:
                throw error("unterminated double-quoted string (opened at line \(open.line), column \(open.column))")
            case 0x0A:
                if singleLine { throw error("a quoted key must be on one line") }
                out.removeLast(out.count - keep)
                try foldQuotedBreak(&out, escaped: false, minIndent: minIndent)
                keep = out.count
            case UInt8(ascii: "\\"):
                i += 1
                if c == 0x0A {
                    if singleLine { throw error("a quoted key must be on one line") }
                    try foldQuotedBreak(&out, escaped: true, minIndent: minIndent)
                } else {
                    try appendEscape(&out)
                }
                keep = out.count
            default:
                out.append(ch)
                i += 1
                if !YAMLParser.isWhite(ch) { keep = out.count }
            }
        }
    }

    /// At a line break inside quotes: one break folds to a space, n empty lines to n
    /// newlines (an escaped break adds nothing). Continuation lines must be indented.
    func foldQuotedBreak(_ out: inout [UInt8], escaped: Bool, minIndent: Int) throws {
        var breaks = 0
        while c == 0x0A {
            newline()
            breaks += 1
            var spaces = 0
            while c == 0x20 { i += 1; spaces += 1 }
            if spaces == 0 && atAnyDocumentMarker {
                throw error("a document marker cannot appear inside a quoted scalar; close the quote first")
            }
            skipWhite()
            if c == 0x0A { continue }
            if c == 0 { break }
            if spaces < minIndent {
                throw error("this continuation line of a quoted scalar must be indented at least \(minIndent) space(s)")
            }
        }
        if escaped {
            out.append(contentsOf: repeatElement(0x0A, count: breaks - 1))
        } else if breaks == 1 {
            out.append(0x20)
        } else {
            out.append(contentsOf: repeatElement(0x0A, count: breaks - 1))
        }
    }

    func appendEscape(_ out: inout [UInt8]) throws {
        let ch = c
        var scalar: UInt32
        var hexDigits = 0
        switch ch {
        case UInt8(ascii: "0"): scalar = 0
        case UInt8(ascii: "a"): scalar = 7
        case UInt8(ascii: "b"): scalar = 8
        case UInt8(ascii: "t"), 0x09: scalar = 9
        case UInt8(ascii: "n"): scalar = 10
        case UInt8(ascii: "v"): scalar = 11
        case UInt8(ascii: "f"): scalar = 12
        case UInt8(ascii: "r"): scalar = 13
        case UInt8(ascii: "e"): scalar = 0x1B
        case 0x20, UInt8(ascii: "\""), UInt8(ascii: "/"), UInt8(ascii: "\\"): scalar = UInt32(ch)
        case UInt8(ascii: "N"): scalar = 0x85
        case UInt8(ascii: "_"): scalar = 0xA0
        case UInt8(ascii: "L"): scalar = 0x2028
        case UInt8(ascii: "P"): scalar = 0x2029
        case UInt8(ascii: "x"): scalar = 0; hexDigits = 2
        case UInt8(ascii: "u"): scalar = 0; hexDigits = 4
        case UInt8(ascii: "U"): scalar = 0; hexDigits = 8
        default:
            throw error("unknown escape '\\\(ch < 0x80 ? String(Character(UnicodeScalar(ch))) : "…")' in a double-quoted string")
        }
        i += 1
        for _ in 0..<hexDigits {
            guard let v = YAMLParser.hexValue(c) else {
                throw error("expected \(hexDigits) hexadecimal digits in the escape")
            }
            scalar = scalar << 4 | v
            i += 1
        }
        guard let u = Unicode.Scalar(scalar) else {
            throw error("escape gives U+\(String(scalar, radix: 16, uppercase: true)), which is not a Unicode character")
        }
        UTF8.encode(u) { out.append($0) }
    }

    enum Chomping { case strip, clip, keep }

    /// `|` or `>` with optional indentation (1-9) and chomping (`+`/`-`) indicators.
    func parseBlockScalar(parent n: Int, props: Properties?) throws -> YAMLNode {
        let start = props?.mark ?? mark
        let literal = c == UInt8(ascii: "|")
        i += 1
        var explicitIndent: Int?
        var chomping: Chomping?
        for _ in 0..<2 {
            if explicitIndent == nil, (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(c) {
                explicitIndent = Int(c - UInt8(ascii: "0"))
                i += 1
            } else if chomping == nil, c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                chomping = c == UInt8(ascii: "+") ? .keep : .strip
                i += 1
            } else if c == UInt8(ascii: "0") {
                throw error("a block scalar's indentation indicator must be 1-9")
            }
        }
        let headerEnd = i
        skipWhite()
        if c == UInt8(ascii: "#") && i == headerEnd { throw error("a comment needs a space before '#'") }
        if atComment { while !YAMLParser.isBreakOrEnd(c) { i += 1 } }
        guard YAMLParser.isBreakOrEnd(c) else {
            throw error("expected a line break after the block scalar header ('|' or '>' with optional indicators)")
        }
        if c == 0x0A { newline() }

        let indent: Int
        if let e = explicitIndent {
            indent = max(n, 0) + e
        } else {
            indent = try detectBlockIndent(parent: n)
        }

        // `empties` counts the line breaks after the last text line; the end of input
        // is no line break (PyYAML and the spec add none), so a last line without
        // one neither counts as empty nor gets a final break.
        var lines: [(emptyBefore: Int, text: Range<Int>)] = []
        var empties = 0
        var lastLineBroken = false
        while c != 0 {
            let lineBegin = i
            var spaces = 0
            while c == 0x20 && spaces < indent { i += 1; spaces += 1 }
            if spaces < indent {
                if c == 0x0A { empties += 1; newline(); continue }
                if c == 0 { break }
                i = lineBegin
                try rejectTabbedBlankLine()
                break
            }
            if indent == 0 && atAnyDocumentMarker { break }
            let textStart = i
            while !YAMLParser.isBreakOrEnd(c) { i += 1 }
            if textStart == i {
                guard c == 0x0A else { break }
                empties += 1
                newline()
                continue
            }
            lines.append((empties, textStart..<i))
            empties = 0
            lastLineBroken = c == 0x0A
            if c == 0x0A { newline() }
        }

        var out: [UInt8] = []
        var previousMoreIndented = false
        for (k, line) in lines.enumerated() {
            let moreIndented = YAMLParser.isWhite(b[line.text.lowerBound])
            if k == 0 {
                out.append(contentsOf: repeatElement(0x0A, count: line.emptyBefore))
            } else if !literal && !previousMoreIndented && !moreIndented {
                if line.emptyBefore == 0 {
                    out.append(0x20)
                } else {
                    out.append(contentsOf: repeatElement(0x0A, count: line.emptyBefore))
                }
            } else {
                out.append(contentsOf: repeatElement(0x0A, count: line.emptyBefore + 1))
            }
            out.append(contentsOf: b[line.text])
            previousMoreIndented = moreIndented
        }
        switch chomping ?? .clip {
        case .strip: break
        case .clip: if lastLineBroken { out.append(0x0A) }
        case .keep:
            if lastLineBroken { out.append(0x0A) }
            out.append(contentsOf: repeatElement(0x0A, count: empties))
        }
        skipToContent()
        return try makeScalar(String(decoding: out, as: UTF8.self), style: literal ? .literal : .folded, props: props, mark: start)
    }

    /// After a block scalar only space-indented blank lines or comments may follow;
    /// a line of tabs is neither.
    func rejectTabbedBlankLine() throws {
        var k = i
        while YAMLParser.isWhite(b[k]) { k += 1 }
        if YAMLParser.isBreakOrEnd(b[k]) && b[i..<k].contains(0x09) {
            throw error("a blank line after a block scalar cannot contain tabs")
        }
    }

    /// Auto-detected indentation: that of the first non-empty line (at least parent + 1).
    func detectBlockIndent(parent n: Int) throws -> Int {
        let save = cursor
        defer { cursor = save }
        var maxBlank = 0
        var maxBlankMark = mark
        while true {
            var spaces = 0
            while c == 0x20 { i += 1; spaces += 1 }
            if c == 0x0A || c == 0 {
                if spaces > maxBlank { maxBlankMark = mark }
                maxBlank = max(maxBlank, spaces)
                if c == 0 { return max(maxBlank, n + 1) }
                newline()
                continue
            }
            let found = spaces == 0 && atAnyDocumentMarker ? max(maxBlank, n + 1) : max(spaces, n + 1)
            if spaces > n && c != 0 && maxBlank > spaces {
                throw error("this leading blank line of a block scalar has more spaces than its first text line (line \(line))", at: maxBlankMark)
            }
            return found
        }
    }

    func parseAlias() throws -> YAMLNode {
        let aliasMark = mark
        i += 1
        let start = i
        while !YAMLParser.isBlankOrEnd(c) && !YAMLParser.isFlowIndicator(c) { i += 1 }
        guard i > start else { throw error("expected an alias name after '*'") }
        let name = String(decoding: b[start..<i], as: UTF8.self)
        guard let node = anchors[name] else {
            throw error("undefined alias '*\(name)': define '&\(name)' earlier in the same document", at: aliasMark)
        }
        aliasExpansion += node.weight
        if aliasExpansion > YAMLParser.maxAliasExpansion {
            throw error("aliases expand to more than \(YAMLParser.maxAliasExpansion) nodes; refusing the document (\"billion laughs\")", at: aliasMark)
        }
        return node
    }
}
