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
            let expression = try NSRegularExpression(pattern: PythonRegexSyntax.translate(pattern), options: options)
            cache.set(pattern, flags, expression)
            return PythonRegex(expression: expression)
        } catch {
            throw TemplateError("invalid regular expression \(Value.string(pattern).pythonRepr)")
        }
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
        let template = try replacementParts(replacement)
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

    /// The parsed replacement, its errors worded as the template filters report them.
    func replacementParts(_ replacement: String) throws -> [PythonReplacementPart] {
        let pattern = expression.pattern
        let quoted = Value.string(replacement).pythonRepr
        do {
            return try PythonRegexSyntax.replacement(replacement, groupCount: expression.numberOfCaptureGroups) {
                pattern.contains("(?<\($0)>")
            }
        } catch let error as PythonReplacementError {
            switch error {
            case .invalidGroup(let n): throw TemplateError("invalid group reference \(n) in replacement \(quoted)")
            case .missingGroupName: throw TemplateError("missing group name in replacement \(quoted)")
            case .unknownGroupName(let name): throw TemplateError("unknown group name '\(name)' in replacement \(quoted)")
            case .badEscape(let e): throw TemplateError("bad escape \\\(e) in replacement \(quoted)")
            }
        }
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
