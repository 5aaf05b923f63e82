import Foundation

/// Python `re` on top of Foundation's NSRegularExpression (ICU): the pattern dialect is
/// translated (`(?P<name>...)`, `\Z`, literal braces), replacement templates use Python's
/// `\1` / `\g<name>` syntax, and compiled expressions are cached.
struct PythonRegex {
    let expression: NSRegularExpression

    struct Flags: Hashable {
        var ignoreCase = false
        var multiline = false
    }

    private static let cache = RegexCache()

    static func compile(_ pattern: String, _ flags: Flags = Flags()) throws -> PythonRegex {
        if let cached = cache.get(pattern, flags) { return PythonRegex(expression: cached) }
        var options: NSRegularExpression.Options = [.useUnixLineSeparators]
        if flags.ignoreCase { options.insert(.caseInsensitive) }
        if flags.multiline { options.insert(.anchorsMatchLines) }
        do {
            let expression = try NSRegularExpression(pattern: translate(pattern), options: options)
            cache.set(pattern, flags, expression)
            return PythonRegex(expression: expression)
        } catch {
            throw TemplateError("invalid regular expression \(Value.string(pattern).pythonRepr)")
        }
    }

    /// Rewrites Python-only syntax into ICU's.
    static func translate(_ pattern: String) -> String {
        let p = Array(pattern.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        var inClass = false
        func append(_ s: String) { out.append(contentsOf: s.unicodeScalars) }
        while i < p.count {
            let c = p[i]
            if c == "\\", i + 1 < p.count {
                let e = p[i + 1]
                if !inClass, e == "Z" { append("\\z") } else { out.append(c); out.append(e) }
                i += 2
                continue
            }
            if inClass {
                if c == "]" { inClass = false }
                if c == "[" { out.append("\\") }
                out.append(c)
                i += 1
                continue
            }
            switch c {
            case "[":
                inClass = true
                out.append(c)
                i += 1
                // A `]` (or `^]`) right after the opening bracket is literal in Python.
                if i < p.count, p[i] == "^" { out.append("^"); i += 1 }
                if i < p.count, p[i] == "]" { append("\\]"); i += 1 }
            case "(" where i + 2 < p.count && p[i + 1] == "?" && p[i + 2] == "P":
                if i + 3 < p.count, p[i + 3] == "<" {
                    append("(?<")
                    i += 4
                } else if i + 3 < p.count, p[i + 3] == "=", let close = p[(i + 4)...].firstIndex(of: ")") {
                    append("\\k<" + String(String.UnicodeScalarView(p[(i + 4)..<close])) + ">")
                    i = close + 1
                } else {
                    out.append(c)
                    i += 1
                }
            case "(" where i + 1 < p.count && p[i + 1] == "?":
                // Inline flags ICU lacks (a: ASCII, L: locale, u: unicode) are dropped.
                var j = i + 2
                var flags = String.UnicodeScalarView()
                while j < p.count, "aiLmsux-".unicodeScalars.contains(p[j]) { flags.append(p[j]); j += 1 }
                if !flags.isEmpty, j < p.count, p[j] == ")" || p[j] == ":" {
                    let kept = String(flags).filter { !"aLu".contains($0) }
                    if kept.isEmpty || kept == "-" {
                        if p[j] == ")" { i = j + 1; continue }
                        append("(?:")
                    } else {
                        append("(?" + kept + String(p[j]))
                    }
                    i = j + 1
                } else {
                    out.append(c)
                    i += 1
                }
            case "{":
                if let end = quantifierEnd(p, from: i) {
                    out.append(contentsOf: p[i...end])
                    i = end + 1
                } else {
                    append("\\{")
                    i += 1
                }
            case "}":
                append("\\}")
                i += 1
            default:
                out.append(c)
                i += 1
            }
        }
        return String(out)
    }

    /// The index of the `}` closing a `{m}`, `{m,}`, `{,n}` or `{m,n}` quantifier at `start`.
    private static func quantifierEnd(_ p: [Unicode.Scalar], from start: Int) -> Int? {
        var j = start + 1
        var digits = 0, comma = false
        while j < p.count {
            let c = p[j]
            if c == "}" { return digits > 0 ? j : nil }
            if c == ",", !comma { comma = true } else if c.isASCII, c.properties.numericType == .decimal { digits += 1 } else { return nil }
            j += 1
        }
        return nil
    }

    // MARK: Matching

    struct Match {
        let result: NSTextCheckingResult
        let text: [UInt16]

        func group(_ n: Int) -> String? {
            guard n < result.numberOfRanges else { return nil }
            let r = result.range(at: n)
            guard r.location != NSNotFound else { return nil }
            return String(decoding: text[r.location..<(r.location + r.length)], as: UTF16.self)
        }

        func group(named name: String) -> String? {
            let r = result.range(withName: name)
            guard r.location != NSNotFound else { return nil }
            return String(decoding: text[r.location..<(r.location + r.length)], as: UTF16.self)
        }

        var groupCount: Int { result.numberOfRanges - 1 }
    }

    func matches(in text: String) -> [Match] {
        let units = Array(text.utf16)
        return expression.matches(in: text, range: NSRange(location: 0, length: units.count)).map { Match(result: $0, text: units) }
    }

    /// `re.search`, or `re.match` when `anchored`.
    func firstMatch(in text: String, anchored: Bool = false) -> Match? {
        let units = Array(text.utf16)
        return expression.firstMatch(in: text, options: anchored ? [.anchored] : [], range: NSRange(location: 0, length: units.count))
            .map { Match(result: $0, text: units) }
    }

    /// `re.subn(replacement, text, count)` with a Python replacement template.
    func substitute(_ replacement: String, in text: String, count: Int = 0) throws -> (text: String, count: Int) {
        let template = try Self.parseReplacement(replacement, groups: expression.numberOfCaptureGroups)
        let units = Array(text.utf16)
        var out: [UInt16] = []
        out.reserveCapacity(units.count)
        var last = 0
        var done = 0
        for result in expression.matches(in: text, range: NSRange(location: 0, length: units.count)) {
            if count > 0, done == count { break }
            out += units[last..<result.range.location]
            let match = Match(result: result, text: units)
            for part in template {
                switch part {
                case .literal(let s): out += Array(s.utf16)
                case .group(let n): out += Array((match.group(n) ?? "").utf16)
                case .named(let name): out += Array((match.group(named: name) ?? "").utf16)
                }
            }
            last = result.range.location + result.range.length
            done += 1
        }
        if done == 0 { return (text, 0) }
        out += units[last...]
        return (String(decoding: out, as: UTF16.self), done)
    }

    enum ReplacementPart {
        case literal(String)
        case group(Int)
        case named(String)
    }

    /// Python's replacement template syntax: `\1`, `\g<1>`, `\g<name>`, `\n`; other escapes of letters are errors.
    static func parseReplacement(_ replacement: String, groups: Int) throws -> [ReplacementPart] {
        var parts: [ReplacementPart] = []
        var literal = String.UnicodeScalarView()
        let r = Array(replacement.unicodeScalars)
        var i = 0
        func flush() {
            if !literal.isEmpty { parts.append(.literal(String(literal))) }
            literal = String.UnicodeScalarView()
        }
        func reference(_ n: Int) throws {
            guard n <= groups else { throw TemplateError("invalid group reference \(n) at position \(i)") }
            flush()
            parts.append(.group(n))
        }
        while i < r.count {
            let c = r[i]
            guard c == "\\", i + 1 < r.count else { literal.append(c); i += 1; continue }
            let e = r[i + 1]
            if e.isASCII, e.properties.numericType == .decimal {
                if e == "0" {
                    literal.append("\u{0}")
                    i += 2
                    continue
                }
                var n = Int(e.value - 48)
                i += 2
                if i < r.count, r[i].isASCII, r[i].properties.numericType == .decimal {
                    n = n * 10 + Int(r[i].value - 48)
                    i += 1
                }
                try reference(n)
                continue
            }
            switch e {
            case "g":
                guard i + 2 < r.count, r[i + 2] == "<", let close = r[(i + 3)...].firstIndex(of: ">") else {
                    throw TemplateError("missing group name in replacement \(Value.string(replacement).pythonRepr)")
                }
                let name = String(String.UnicodeScalarView(r[(i + 3)..<close]))
                if let n = Int(name) { try reference(n) } else { flush(); parts.append(.named(name)) }
                i = close + 1
                continue
            case "n": literal.append("\n")
            case "t": literal.append("\t")
            case "r": literal.append("\r")
            case "f": literal.append("\u{0C}")
            case "v": literal.append("\u{0B}")
            case "a": literal.append("\u{07}")
            case "b": literal.append("\u{08}")
            case "\\": literal.append("\\")
            default:
                if e.isASCII, e.properties.isAlphabetic {
                    throw TemplateError("bad escape \\\(e) in replacement \(Value.string(replacement).pythonRepr)")
                }
                literal.append(c)
                literal.append(e)
            }
            i += 2
        }
        flush()
        return parts
    }

    /// Python's `re.escape` (3.7+): only regex metacharacters and whitespace are escaped.
    static func escape(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for c in text.unicodeScalars {
            if "()[]{}?*+-|^$\\.&~# \t\n\r\u{0B}\u{0C}".unicodeScalars.contains(c) { out.append("\\") }
            out.append(c)
        }
        return String(out)
    }
}

/// Compiled expressions shared by every Templar (NSRegularExpression is immutable and thread-safe).
private final class RegexCache: @unchecked Sendable {
    private var entries: [String: NSRegularExpression] = [:]
    private let lock = NSLock()

    private func key(_ pattern: String, _ flags: PythonRegex.Flags) -> String {
        (flags.ignoreCase ? "i" : "-") + (flags.multiline ? "m" : "-") + pattern
    }

    func get(_ pattern: String, _ flags: PythonRegex.Flags) -> NSRegularExpression? {
        lock.lock()
        defer { lock.unlock() }
        return entries[key(pattern, flags)]
    }

    func set(_ pattern: String, _ flags: PythonRegex.Flags, _ expression: NSRegularExpression) {
        lock.lock()
        defer { lock.unlock() }
        if entries.count > 2_000 { entries.removeAll() }
        entries[key(pattern, flags)] = expression
    }
}
